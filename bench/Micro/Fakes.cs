using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Sdk;

namespace Micro;

/// <summary>A session whose TrySend is the engine's: enqueue into a <see cref="SendQueue"/>; the "writer" drains it at once.</summary>
internal sealed class QueueSession(string query) : IWebSocketSession
{
    private readonly SendQueue _queue = new(1024, dropOldest: false);

    public long Written { get; private set; }

    public string Id => "1";
    public string Protocol => "lws-mirror-protocol";
    public string VhostName => "bench";
    public string Path => "/";
    public string QueryString => query;
    public IPEndPoint? RemoteEndPoint => null;
    public string? UserAgent => null;
    public bool IsOverHttp2 => false;
    public DateTimeOffset ConnectedAt => default;
    public object? State { get; set; }
    public CancellationToken Ended => CancellationToken.None;
    public bool IsClosing => false;

    public string? GetHeader(string name) => null;

    public string? GetQueryParameter(string name) => name == "mirror" ? "bench" : null;

    public bool TrySend(WebSocketMessageType type, ReadOnlyMemory<byte> payload)
    {
        var result = _queue.TryEnqueue(new OutboundMessage(type, payload, 0), out _);
        if (result == EnqueueResult.StartWriter)
        {
            while (_queue.TryDequeue(out var message) == DequeueResult.Message)
            {
                Written += message.Payload.Length;
            }
        }

        return result is EnqueueResult.Queued or EnqueueResult.StartWriter;
    }

    public void Close(WebSocketCloseStatus status, string? reason)
    {
    }
}

/// <summary>A stream that swallows writes (the socket), counting bytes.</summary>
internal sealed class DiscardStream : Stream
{
    public long Written { get; private set; }
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => 0;
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Written += count;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Written += buffer.Length;
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Written += count;
        return Task.CompletedTask;
    }
}
