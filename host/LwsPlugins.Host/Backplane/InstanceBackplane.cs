using System.Net.WebSockets;
using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Backplane;

/// <summary>
/// The backplane one protocol instance gets: group names are put under the instance's vhost and protocol (channel =
/// prefix + vhost + '/' + protocol + '/' + group), and the links it leaves open are disposed with the instance, so the
/// host holds no delegate to the plugin's code after its generation is retired.
/// </summary>
internal sealed class InstanceBackplane(BackplaneBase inner, string vhostName, string protocolName) : IFanOutBackplane, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly HashSet<BackplaneLink> _links = [];
    private readonly string _scope = $"{vhostName.ToLowerInvariant()}/{protocolName}/";
    private bool _disposed;

    public IFanOutLink Join(string group, Action<WebSocketMessageType, ReadOnlyMemory<byte>> deliver) => Join(group, deliver, null);

    public IFanOutLink Join(string group, Action<WebSocketMessageType, ReadOnlyMemory<byte>> deliver, Action<string>? lost)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(deliver);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var link = inner.Join(_scope + group, deliver, lost);
            _links.Add(link);
            link.OnDisposed(Forget);
            return link;
        }
    }

    public ValueTask DisposeAsync()
    {
        BackplaneLink[] links;
        lock (_gate)
        {
            _disposed = true;
            links = [.. _links];
            _links.Clear();
        }

        foreach (var link in links)
        {
            link.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private void Forget(BackplaneLink link)
    {
        lock (_gate)
        {
            _links.Remove(link);
        }
    }
}
