namespace LwsPlugins.Sdk;

/// <summary>
/// A protocol's instance for one vhost. The host calls it for every session of the protocol on that vhost; calls for
/// one session never overlap, calls for different sessions may run concurrently. An exception thrown from a call closes
/// only that session, with close code 1011, and is logged with the plugin id.
/// </summary>
public interface IProtocolHandler : IAsyncDisposable
{
    /// <summary>A session was accepted (lws: <c>LWS_CALLBACK_ESTABLISHED</c>).</summary>
    /// <param name="session">The new session.</param>
    /// <param name="cancellationToken">Cancelled when the session ends.</param>
    /// <returns>A task that completes when the handler is done with the event.</returns>
    ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken);

    /// <summary>A whole message arrived (lws: <c>LWS_CALLBACK_RECEIVE</c>, with fragments already reassembled).</summary>
    /// <param name="session">The session that sent it.</param>
    /// <param name="message">The message; its bytes are valid only until the returned task completes.</param>
    /// <param name="cancellationToken">Cancelled when the session ends.</param>
    /// <returns>A task that completes when the message is handled; the session reads its next message after that.</returns>
    ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken);

    /// <summary>The session ended, however it ended (lws: <c>LWS_CALLBACK_CLOSED</c>). Called once per opened session.</summary>
    /// <param name="session">The session; sends on it are ignored.</param>
    /// <returns>A task that completes when the handler has released the session.</returns>
    ValueTask OnSessionClosedAsync(IWebSocketSession session);
}
