using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// The fast path's connection transport as the <see cref="Stream"/> a WebSocket runs over. A zero-byte read waits for
/// data without taking a buffer (an idle session holds none). Disposing ends a pending read; only a forced abort
/// (<see cref="FastPathRequest.Forced"/>) resets the connection, otherwise it closes with a FIN once the session returns.
/// </summary>
internal sealed class TransportStream(ConnectionContext connection, FastPathRequest request) : Stream
{
    private readonly PipeReader _input = connection.Transport.Input;
    private readonly PipeWriter _output = connection.Transport.Output;
    private volatile bool _disposed;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!_disposed)
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var received = result.Buffer;
            if (result.IsCanceled)
            {
                _input.AdvanceTo(received.Start);
                break;
            }

            if (buffer.IsEmpty && !received.IsEmpty)
            {
                // Data is there: the caller now reads it with a real buffer.
                _input.AdvanceTo(received.Start);
                return 0;
            }

            if (!received.IsEmpty)
            {
                var count = (int)Math.Min(received.Length, buffer.Length);
                received.Slice(0, count).CopyTo(buffer.Span);
                _input.AdvanceTo(received.GetPosition(count));
                return count;
            }

            _input.AdvanceTo(received.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken)
        => _disposed ? Task.CompletedTask : _output.FlushAsync(cancellationToken).AsTask();

    public override void Flush() => throw new NotSupportedException("async only");

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (request.Forced)
            {
                connection.Abort(new ConnectionAbortedException("The session was aborted."));
            }
            else
            {
                _input.CancelPendingRead();
            }
        }

        base.Dispose(disposing);
    }
}
