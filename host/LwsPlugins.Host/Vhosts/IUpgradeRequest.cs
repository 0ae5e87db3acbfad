using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// The request that asks for a WebSocket, as the acceptor and then the session see it: what negotiation, admission, the
/// plugin's view of the session and the access log read, and how the connection is answered, upgraded and ended. Kestrel's
/// HTTP pipeline supplies it from an <see cref="HttpContext"/> (<see cref="KestrelUpgradeRequest"/>); the WebSocket fast
/// path supplies it from its own parse of the raw connection, so both paths share one acceptor and one session.
/// </summary>
internal interface IUpgradeRequest
{
    /// <summary>The client's address, when the transport has one.</summary>
    IPAddress? RemoteAddress { get; }

    int RemotePort { get; }

    /// <summary>The decoded request path (a plugin's <c>Path</c>; <c>/</c> when empty).</summary>
    string Path { get; }

    /// <summary>The query with its <c>?</c> (<c>?mirror=a</c>), or empty.</summary>
    string QueryString { get; }

    /// <summary>The request target as the client sent it, for the access log.</summary>
    string RawTarget { get; }

    /// <summary>The request's protocol (<c>HTTP/1.1</c>; <c>HTTP/2</c> for an extended CONNECT).</summary>
    string Protocol { get; }

    /// <summary>The <c>User-Agent</c> header, when present (lws-status shows it).</summary>
    string? UserAgent { get; }

    /// <summary>The subprotocols the client offers, in its order (<c>Sec-WebSocket-Protocol</c>).</summary>
    IList<string> RequestedProtocols { get; }

    /// <summary>A request header as a plugin asks for it; only while the session runs (the session checks).</summary>
    string? GetHeader(string name);

    /// <summary>Writes the 101 and returns the WebSocket over the upgraded connection.</summary>
    Task<WebSocket> AcceptAsync(WebSocketAcceptContext accept);

    /// <summary>Answers a refused handshake and ends the connection after the answer.</summary>
    Task RefuseAsync(HandshakeProblem problem);

    /// <summary>Lets the next abort reset the connection even after a close frame (a close that timed out, a drain that ran out).</summary>
    void ForceNextAbort();

    /// <summary>Sends what the upgraded connection still holds (a close frame) before the session disposes its WebSocket.</summary>
    ValueTask FlushAsync();
}
