using System.Net;
using System.Net.WebSockets;

namespace LwsPlugins.Sdk;

/// <summary>
/// One accepted WebSocket connection (lws: a <c>wsi</c> with its per-session user storage).
/// </summary>
/// <remarks>
/// <para>
/// Sends are queued on a per-session queue and written in order by the host, so <see cref="TrySend"/> never waits for
/// the client. What happens when a client reads more slowly than messages arrive is the vhost's slow-consumer policy.
/// The default (<c>backpressure</c>, as lws) guarantees: nothing is dropped for a client that keeps reading; once a
/// queue reaches the vhost's <c>sendQueueLimit</c> the host stops reading from the session whose callback made the send
/// (for a <see cref="SessionGroup"/> broadcast: the member that sent the message) until the queue has drained to half,
/// so senders are paced by the slowest reader through TCP; a client that reads nothing for the vhost's
/// <c>stallTimeoutMs</c> (3 s) is closed with 1008 and the senders it held resume. Only sends made inside the
/// synchronous part of a callback (before its first await that does not complete at once) pace their session; other
/// senders (timers, background work) should await <see cref="SendAsync"/>, which waits for room. Such unpaced sends may
/// take a queue to twice its limit, where the client is closed with 1008 rather than lose messages.
/// </para>
/// <para>
/// The explicit policies <c>close</c> (a full queue closes the client with 1008) and <c>dropOldest</c> (a full queue
/// drops its oldest message) neither pause nor wait.
/// </para>
/// </remarks>
public interface IWebSocketSession
{
    /// <summary>A process-unique id of the session.</summary>
    string Id { get; }

    /// <summary>The negotiated subprotocol.</summary>
    string Protocol { get; }

    /// <summary>The name of the vhost serving the session.</summary>
    string VhostName { get; }

    /// <summary>The request path of the upgrade request, e.g. <c>/</c>.</summary>
    string Path { get; }

    /// <summary>The raw query string of the upgrade request, including the leading <c>?</c>, or empty.</summary>
    string QueryString { get; }

    /// <summary>The client's address and port; <see langword="null"/> on a Unix domain socket, which has neither.</summary>
    IPEndPoint? RemoteEndPoint { get; }

    /// <summary>The <c>User-Agent</c> of the upgrade request, or <see langword="null"/>.</summary>
    string? UserAgent { get; }

    /// <summary>Whether the WebSocket runs over HTTP/2 (RFC 8441) rather than an HTTP/1.1 upgrade.</summary>
    bool IsOverHttp2 { get; }

    /// <summary>When the session was accepted.</summary>
    DateTimeOffset ConnectedAt { get; }

    /// <summary>Per-session state owned by the protocol handler (lws: per-session user storage).</summary>
    object? State { get; set; }

    /// <summary>Cancelled once the session has ended.</summary>
    CancellationToken Ended { get; }

    /// <summary>Gets a request header of the upgrade request.</summary>
    /// <param name="name">Header name, case-insensitive.</param>
    /// <returns>The header's value (several values joined with commas), or <see langword="null"/>.</returns>
    string? GetHeader(string name);

    /// <summary>Gets a query parameter of the upgrade request, URL-decoded; the first when it occurs more than once.</summary>
    /// <param name="name">The parameter name, case-sensitive.</param>
    /// <returns>The value (empty for <c>?name=</c>), or <see langword="null"/> when absent.</returns>
    string? GetQueryParameter(string name);

    /// <summary>Queues a message for the client without waiting (see remarks for what a full queue does).</summary>
    /// <param name="type">Text (payload must be UTF-8) or binary.</param>
    /// <param name="payload">The bytes; the caller must not change them afterwards (they may be shared by several sessions).</param>
    /// <returns>
    /// <see langword="false"/> when the session is closing or closed, or its queue was full: under <c>close</c> at the
    /// limit, under <c>backpressure</c> at twice the limit (the session is then closed with 1008). Under
    /// <c>backpressure</c> a message queued over the limit still returns <see langword="true"/>: it will be delivered,
    /// and the sender is paced instead.
    /// </returns>
    bool TrySend(WebSocketMessageType type, ReadOnlyMemory<byte> payload);

    /// <summary>
    /// Queues a message once the queue is under the vhost's <c>sendQueueLimit</c>, waiting for the client to read while it
    /// is not: the way for a sender the host does not pace (a timer, background work) to respect a slow client.
    /// </summary>
    /// <param name="type">Text (payload must be UTF-8) or binary.</param>
    /// <param name="payload">The bytes; the caller must not change them afterwards (they may be shared by several sessions).</param>
    /// <param name="cancellationToken">Stops the wait; the message is then not queued.</param>
    /// <returns>As <see cref="TrySend"/>, once there was room (or the session began closing).</returns>
    /// <remarks>The default implementation does not wait: it is <see cref="TrySend"/>; the host's sessions wait.</remarks>
    ValueTask<bool> SendAsync(WebSocketMessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(TrySend(type, payload));
    }

    /// <summary>
    /// Closes the session after the messages already queued, with a close frame carrying <paramref name="status"/> and
    /// <paramref name="reason"/>. Returns at once; the session ends when the client answers or after the vhost's close timeout.
    /// </summary>
    /// <param name="status">The close code.</param>
    /// <param name="reason">The close reason (at most 123 UTF-8 bytes).</param>
    void Close(WebSocketCloseStatus status, string? reason);
}
