using LwsPlugins.Host.Plugins;
using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// One vhost's instance of a protocol from one plugin generation (lws: what PROTOCOL_INIT creates). A hot reload
/// gives the vhost a new instance; the old one retires: it keeps its sessions until they are gone, then is disposed
/// (PROTOCOL_DESTROY) and releases its generation.
/// </summary>
internal sealed class ProtocolInstance
{
    private readonly ProtocolInstanceCounter? _counter;
    private readonly IAsyncDisposable? _ownedResources;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sessions;
    private int _requests;
    private long _callbackTimeouts;
    private int _disposed;
    private volatile bool _retiring;

    public ProtocolInstance(ProtocolExport export, IProtocolHandler handler, ProtocolInstanceCounter counter, IAsyncDisposable? ownedResources = null)
    {
        Export = export;
        Handler = handler;
        _ownedResources = ownedResources;
        _counter = counter;
        counter.Created();
        export.Generation.AcquireInstance();
    }

    private ProtocolInstance()
    {
        Handler = NullProtocolHandler.Instance;
    }

    /// <summary>The binding of WebSocket requests that name no protocol: accepted, and nothing is sent on them.</summary>
    public static ProtocolInstance None { get; } = new();

    public ProtocolExport? Export { get; }

    public IProtocolHandler Handler { get; }

    public string PluginId => Export?.Generation.PluginId ?? "";

    public int Generation => Export?.Generation.Number ?? 0;

    public bool PerMessageDeflate => Export?.PerMessageDeflate ?? false;

    public int Sessions => Volatile.Read(ref _sessions);

    public bool IsRetiring => _retiring;

    /// <summary>Plugin callbacks of this instance that ran past the vhost's callback timeout.</summary>
    public long CallbackTimeouts => Interlocked.Read(ref _callbackTimeouts);

    public void SessionOpened() => Interlocked.Increment(ref _sessions);

    public void SessionClosed()
    {
        Interlocked.Decrement(ref _sessions);
        CheckDrained();
    }

    /// <summary>
    /// Takes the instance for one HTTP request; fails when it has drained (its handler is being disposed), so the caller
    /// takes the vhost's current instance instead. A retiring instance keeps serving the requests that entered it.
    /// </summary>
    public bool TryEnterRequest()
    {
        Interlocked.Increment(ref _requests);
        if (Volatile.Read(ref _disposed) != 0 || _drained.Task.IsCompleted)
        {
            ExitRequest();
            return false;
        }

        return true;
    }

    public void ExitRequest()
    {
        Interlocked.Decrement(ref _requests);
        CheckDrained();
    }

    public void CallbackTimedOut() => Interlocked.Increment(ref _callbackTimeouts);

    private void CheckDrained()
    {
        if (_retiring && Volatile.Read(ref _sessions) == 0 && Volatile.Read(ref _requests) == 0)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>
    /// Retires the instance (reload vocabulary, see <see cref="Plugins.Reload.PluginReloader"/>): it takes no new session;
    /// <see cref="Drained"/> completes when its last session and request are gone.
    /// </summary>
    public void Retire()
    {
        _retiring = true;
        CheckDrained();
    }

    /// <summary>Completes once the instance is retired and has no session or request left.</summary>
    public Task Drained => _drained.Task;

    /// <summary>Disposes the handler exactly once however often it is called, then releases the generation.</summary>
    public async ValueTask DisposeHandlerAsync()
    {
        if (Export is null || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await Handler.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (_ownedResources is not null)
            {
                await _ownedResources.DisposeAsync().ConfigureAwait(false);
            }

            _counter!.Disposed();
            await Export.Generation.ReleaseInstanceAsync().ConfigureAwait(false);
        }
    }
}
