using System.Net.WebSockets;
using System.Text;

namespace LwsPlugins.Tests.Common;

/// <summary>A real client WebSocket with bounded waits, for tests.</summary>
public sealed class WsClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly IDisposable? _invoker;

    private WsClient(ClientWebSocket socket, IDisposable? invoker = null)
    {
        _socket = socket;
        _invoker = invoker;
    }

    public WebSocket Socket => _socket;

    public string? SubProtocol => _socket.SubProtocol;

    public static async Task<WsClient> ConnectAsync(Uri uri, params string[] protocols)
        => await ConnectAsync(uri, null, protocols);

    public static async Task<WsClient> ConnectAsync(Uri uri, Action<ClientWebSocketOptions>? configure, params string[] protocols)
    {
        var socket = new ClientWebSocket();
        foreach (var protocol in protocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }

        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await socket.ConnectAsync(uri, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new WsClient(socket);
    }

    /// <summary>Connects over the Unix domain socket <paramref name="socketPath"/>; <paramref name="uri"/>'s host is the Host header.</summary>
    public static async Task<WsClient> ConnectUnixAsync(string socketPath, Uri uri, params string[] protocols)
    {
        var handler = new System.Net.Http.SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath), ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var invoker = new HttpMessageInvoker(handler);
        var client = new ClientWebSocket();
        foreach (var protocol in protocols)
        {
            client.Options.AddSubProtocol(protocol);
        }

        using var timeout = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await client.ConnectAsync(uri, invoker, timeout.Token);
        }
        catch
        {
            client.Dispose();
            invoker.Dispose();
            throw;
        }

        return new WsClient(client, invoker);
    }

    /// <summary>
    /// Connects to a wss:// URI whose host is a name (sent as SNI and Host) while the TCP connection goes to
    /// <paramref name="connectTo"/>; the server's certificate must be <paramref name="expected"/>.
    /// </summary>
    public static async Task<WsClient> ConnectTlsAsync(Uri uri, System.Net.IPEndPoint connectTo, System.Security.Cryptography.X509Certificates.X509Certificate2 expected, params string[] protocols)
    {
        var handler = new System.Net.Http.SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var tcp = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                try
                {
                    await tcp.ConnectAsync(connectTo, ct);
                    return new System.Net.Sockets.NetworkStream(tcp, ownsSocket: true);
                }
                catch
                {
                    tcp.Dispose();
                    throw;
                }
            },
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == expected.Thumbprint },
        };
        var invoker = new HttpMessageInvoker(handler);
        var socket = new ClientWebSocket();
        foreach (var protocol in protocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }

        using var timeout = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await socket.ConnectAsync(uri, invoker, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            invoker.Dispose();
            throw;
        }

        return new WsClient(socket, invoker);
    }

    public Task SendTextAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendAsync(byte[] payload, WebSocketMessageType type)
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await _socket.SendAsync(payload, type, endOfMessage: true, timeout.Token);
    }

    /// <summary>Receives one whole message; a close frame comes back as <see cref="Received.Close"/>.</summary>
    public async Task<Received> ReceiveAsync(TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? DefaultTimeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return new Received(result.MessageType, [], _socket.CloseStatus, _socket.CloseStatusDescription);
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return new Received(result.MessageType, message.ToArray(), null, null);
            }
        }
    }

    public async Task<string> ReceiveTextAsync(TimeSpan? within = null)
    {
        var received = await ReceiveAsync(within);
        if (received.MessageType != WebSocketMessageType.Text)
        {
            throw new InvalidOperationException($"expected a text message, got {received.MessageType} {received.CloseStatus} {received.CloseDescription}");
        }

        return received.Text;
    }

    /// <summary>Reads until the server's close frame, skipping data messages; returns its code and reason.</summary>
    public async Task<Received> ReceiveCloseAsync(TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? DefaultTimeout);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var received = await ReceiveAsync(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return received;
            }
        }
    }

    public async Task CloseAsync(WebSocketCloseStatus status, string? reason)
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await _socket.CloseAsync(status, reason, timeout.Token);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        _invoker?.Dispose();
        return ValueTask.CompletedTask;
    }

    public sealed record Received(WebSocketMessageType MessageType, byte[] Data, WebSocketCloseStatus? CloseStatus, string? CloseDescription)
    {
        public string Text => Encoding.UTF8.GetString(Data);
    }
}
