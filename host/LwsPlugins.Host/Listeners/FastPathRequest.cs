using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Host.Vhosts;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// A clean upgrade taken by the fast path, read from its <see cref="UpgradeRequestHead"/> on the raw connection. Accepting
/// consumes the head, writes the 101 as Kestrel would and runs the WebSocket on the transport: our own framing on the
/// connection's pipes (<see cref="PipeWebSocket"/>, the same close codes as the HTTP path's ManagedWebSocket under the frame
/// guard), or, with <see cref="OwnFraming"/> off, that same guard and ManagedWebSocket over the transport as a stream. It
/// never refuses: what the acceptor would refuse goes to Kestrel's pipeline before anything is sent.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The WebSocket owns and disposes the guard; this only flushes it.")]
internal sealed class FastPathRequest(ConnectionContext connection, UpgradeRequestHead head, long maxMessageSize) : IUpgradeRequest
{
    private static readonly byte[] s_acceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8.ToArray();

    private ClientFrameGuardStream? _guard;
    private PipeWebSocket? _socket;

    /// <summary>
    /// Whether the fast path frames with <see cref="PipeWebSocket"/> (the default) rather than ManagedWebSocket over the
    /// frame guard; an internal switch for the comparisons (tests, benchmarks), not configuration.
    /// </summary>
    internal static bool OwnFraming { get; set; } = Environment.GetEnvironmentVariable("LWS_FASTPATH_FRAMING") != "managed";
    private ReadOnlySequence<byte> _received;
    private byte[]? _peeked;

    public IPAddress? RemoteAddress => (connection.RemoteEndPoint as IPEndPoint)?.Address;

    public int RemotePort => (connection.RemoteEndPoint as IPEndPoint)?.Port ?? 0;

    public string Path => head.Path;

    public string QueryString => head.QueryString;

    public string RawTarget => head.RawTarget;

    public string Protocol => HttpProtocol.Http11;

    public string? UserAgent => head.UserAgent;

    public IList<string> RequestedProtocols => head.RequestedProtocols;

    /// <summary>Set by <see cref="ForceNextAbort"/>: disposing the WebSocket then resets the connection.</summary>
    public bool Forced { get; private set; }

    /// <summary>Whether <see cref="AcceptAsync"/> consumed the head (otherwise the fast path hands it to Kestrel untouched).</summary>
    public bool Consumed { get; private set; }

    /// <summary>What the fast path has read and not yet given back; <see cref="AcceptAsync"/> consumes the head from it.</summary>
    public void Received(in ReadOnlySequence<byte> buffer) => _received = buffer;

    /// <summary>On a <see cref="DirectConnection"/>: the buffer the head was peeked into, which takes it off the socket.</summary>
    public void Received(byte[] peeked) => _peeked = peeked;

    public string? GetHeader(string name) => head.GetHeader(name);

    public Task<WebSocket> AcceptAsync(WebSocketAcceptContext accept)
    {
        Consumed = true;
        if (connection is DirectConnection direct)
        {
            direct.Consume(head.Length, _peeked!);
        }
        else
        {
            connection.Transport.Input.AdvanceTo(_received.GetPosition(head.Length));
        }

        _received = default;
        _peeked = null;

        var output = connection.Transport.Output;
        WriteSwitchingProtocols(output, head.Key, accept.SubProtocol);
        WebSocket socket;
        if (OwnFraming)
        {
            socket = _socket = new PipeWebSocket(
                connection.Transport, accept.SubProtocol, maxMessageSize, accept.KeepAliveInterval ?? TimeSpan.Zero, accept.KeepAliveTimeout ?? Timeout.InfiniteTimeSpan, ServerServices.Time, this);
        }
        else
        {
            var guard = _guard = new ClientFrameGuardStream(new TransportStream(connection, this), maxMessageSize);
            socket = WebSocket.CreateFromStream(guard, new WebSocketCreationOptions
            {
                IsServer = true,
                SubProtocol = accept.SubProtocol,
                KeepAliveInterval = accept.KeepAliveInterval ?? TimeSpan.Zero,
                KeepAliveTimeout = accept.KeepAliveTimeout ?? Timeout.InfiniteTimeSpan,
            });
        }

        var flushing = output.FlushAsync();
        return flushing.IsCompletedSuccessfully ? Task.FromResult(socket) : FlushedAsync(flushing, socket);
    }

    private static async Task<WebSocket> FlushedAsync(ValueTask<FlushResult> flushing, WebSocket socket)
    {
        await flushing.ConfigureAwait(false);
        return socket;
    }

    public Task RefuseAsync(HandshakeProblem problem)
        => throw new InvalidOperationException("the fast path refuses nothing: Kestrel's pipeline answers what the acceptor would refuse.");

    public void ForceNextAbort() => Forced = true;

    public ValueTask FlushAsync() => _socket is { } socket ? socket.FlushQuietlyAsync() : _guard is { } guard ? guard.FlushQuietlyAsync() : default;

    /// <summary>Resets the connection (a forced abort of the session: a drain out of time, a stuck client).</summary>
    public void AbortConnection() => connection.Abort(new ConnectionAbortedException("The session was aborted."));

    /// <summary>The 101 with the headers, in the order, that Kestrel and ASP.NET Core's WebSocket middleware send.</summary>
    private static void WriteSwitchingProtocols(PipeWriter output, string key, string? subProtocol)
    {
        Span<byte> hashed = stackalloc byte[20];
        Span<byte> keyed = stackalloc byte[24 + 36];
        Encoding.ASCII.GetBytes(key, keyed);
        s_acceptGuid.CopyTo(keyed[24..]);
#pragma warning disable CA5350 // RFC 6455 §4.2.2 defines Sec-WebSocket-Accept with SHA-1; it is not used for security here.
        SHA1.HashData(keyed, hashed);
#pragma warning restore CA5350

        var response = new StringBuilder(192)
            .Append("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nDate: ")
            .Append(ServerServices.Time.GetUtcNow().ToString("r", System.Globalization.CultureInfo.InvariantCulture))
            .Append("\r\nServer: Kestrel\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ")
            .Append(Convert.ToBase64String(hashed));
        if (subProtocol is not null)
        {
            response.Append("\r\nSec-WebSocket-Protocol: ").Append(subProtocol);
        }

        response.Append("\r\n\r\n");
        var length = Encoding.ASCII.GetByteCount(response.ToString());
        var span = output.GetSpan(length);
        Encoding.ASCII.GetBytes(response.ToString(), span);
        output.Advance(length);
    }
}
