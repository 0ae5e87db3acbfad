using System.Net;
using System.Net.WebSockets;

namespace LwsPlugins.Sdk;

/// <summary>
/// One accepted WebSocket connection (lws: a <c>wsi</c> with its per-session user storage).
/// </summary>
/// <remarks>
/// Sends are queued on a bounded per-session queue and written in order by the host, so a send never waits for the
/// client. When a client does not read and its queue is full, the host applies the vhost's slow-consumer policy: by
/// default the session is closed with 1008 (policy violation), so nothing is silently lost for clients that keep up
/// and a stalled client never holds up the others.
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

    /// <summary>The client's address and port, when known.</summary>
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

    /// <summary>Queues a message for the client.</summary>
    /// <param name="type">Text (payload must be UTF-8) or binary.</param>
    /// <param name="payload">The bytes; the caller must not change them afterwards (they may be shared by several sessions).</param>
    /// <returns><see langword="false"/> when the session is closing or closed, or its queue was full (see remarks).</returns>
    bool TrySend(WebSocketMessageType type, ReadOnlyMemory<byte> payload);

    /// <summary>
    /// Closes the session after the messages already queued, with a close frame carrying <paramref name="status"/> and
    /// <paramref name="reason"/>. Returns at once; the session ends when the client answers or after the vhost's close timeout.
    /// </summary>
    /// <param name="status">The close code.</param>
    /// <param name="reason">The close reason (at most 123 UTF-8 bytes).</param>
    void Close(WebSocketCloseStatus status, string? reason);
}
