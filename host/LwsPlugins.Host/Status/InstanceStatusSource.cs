using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Host.Status;

/// <summary>
/// The status source a protocol instance gets: the server's, except that its subscriptions are dropped with the
/// instance, so a plugin that forgets to unsubscribe does not keep its load context alive after a reload.
/// </summary>
internal sealed class InstanceStatusSource(IServerStatusSource inner) : IServerStatusSource, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<IDisposable> _subscriptions = [];

    public string ServerVersion => inner.ServerVersion;

    public string HostName => inner.HostName;

    public ServerStatusSnapshot GetSnapshot() => inner.GetSnapshot();

    public IDisposable Subscribe(Action onChange)
    {
        var subscription = inner.Subscribe(onChange);
        lock (_gate)
        {
            _subscriptions.Add(subscription);
        }

        return subscription;
    }

    public ValueTask DisposeAsync()
    {
        IDisposable[] subscriptions;
        lock (_gate)
        {
            subscriptions = [.. _subscriptions];
            _subscriptions.Clear();
        }

        foreach (var subscription in subscriptions)
        {
            subscription.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
