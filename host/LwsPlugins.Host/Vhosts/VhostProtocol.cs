using LwsPlugins.Host.Plugins;
using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Vhosts;

/// <summary>A protocol as one vhost serves it: the plugin export, the vhost's handler instance, or why it is unavailable.</summary>
internal sealed class VhostProtocol
{
    private int _sessions;
    private int _disposed;
    private ProtocolInstanceCounter? _counter;

    private VhostProtocol(string name, ProtocolExport? export, IProtocolHandler handler, string? unavailableReason)
    {
        Name = name;
        Export = export;
        Handler = handler;
        UnavailableReason = unavailableReason;
    }

    public string Name { get; }

    public ProtocolExport? Export { get; }

    public IProtocolHandler Handler { get; }

    public string? UnavailableReason { get; }

    public bool IsAvailable => UnavailableReason is null;

    public bool PerMessageDeflate => Export?.PerMessageDeflate ?? false;

    public string PluginId => Export?.Generation.PluginId ?? "";

    public int Generation => Export?.Generation.Number ?? 0;

    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>The vhost's binding for WebSocket requests that name no protocol: accepted, and nothing is sent on them.</summary>
    public static VhostProtocol None { get; } = new("", null, NullProtocolHandler.Instance, null);

    public static VhostProtocol Available(ProtocolExport export, IProtocolHandler handler, ProtocolInstanceCounter counter)
    {
        counter.Created();
        return new(export.Name, export, handler, null) { _counter = counter };
    }

    public static VhostProtocol Unavailable(string name, ProtocolExport? export, string reason) => new(name, export, NullProtocolHandler.Instance, reason);

    public void SessionOpened() => Interlocked.Increment(ref _sessions);

    public void SessionClosed() => Interlocked.Decrement(ref _sessions);

    /// <summary>Disposes the vhost's instance of the protocol (lws: PROTOCOL_DESTROY), exactly once however often it is called.</summary>
    public async ValueTask DisposeHandlerAsync()
    {
        if (_counter is null || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await Handler.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _counter.Disposed();
        }
    }
}
