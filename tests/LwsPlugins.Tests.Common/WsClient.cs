using System.Net.WebSockets;
using System.Text;

namespace LwsPlugins.Tests.Common;

/// <summary>A real client WebSocket with bounded waits, for tests.</summary>
public sealed class WsClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;

    private WsClient(ClientWebSocket socket)
    {
        _socket = socket;
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
        return ValueTask.CompletedTask;
    }

    public sealed record Received(WebSocketMessageType MessageType, byte[] Data, WebSocketCloseStatus? CloseStatus, string? CloseDescription)
    {
        public string Text => Encoding.UTF8.GetString(Data);
    }
}
