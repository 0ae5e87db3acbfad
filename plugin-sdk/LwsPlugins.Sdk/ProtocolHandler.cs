namespace LwsPlugins.Sdk;

/// <summary>A convenient base for <see cref="IProtocolHandler"/>: every event does nothing unless overridden.</summary>
public abstract class ProtocolHandler : IProtocolHandler
{
    /// <inheritdoc />
    public virtual ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public virtual ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public virtual ValueTask OnSessionClosedAsync(IWebSocketSession session) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the instance owns (timers, groups); called once when the vhost or the plugin goes away.</summary>
    /// <returns>A task that completes when everything is released.</returns>
    protected virtual ValueTask DisposeAsyncCore() => ValueTask.CompletedTask;
}
