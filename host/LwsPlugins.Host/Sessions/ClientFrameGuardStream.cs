using System.Buffers.Binary;

namespace LwsPlugins.Host.Sessions;

/// <summary>
/// Sits under the server's WebSocket on the upgraded connection and watches the client's frame headers as they arrive,
/// for what <see cref="System.Net.WebSockets.WebSocket"/> does not enforce: an unmasked client frame (RFC 6455 §5.1:
/// 1002), and a data frame whose declared length takes its message over the vhost's limit (1009 at once, without
/// waiting for a body that may never come), a 64-bit length with its top bit set (1002), and a close frame whose reason
/// is not UTF-8 (RFC 6455 §8.1 and lws: 1007; .NET's WebSocket would answer 1002). On any it writes the close frame
/// itself, stops every later write, and ends the read side, which ends the session and the connection.
/// </summary>
internal sealed class ClientFrameGuardStream(Stream inner, long maxMessageSize) : Stream
{
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly byte[] _header = new byte[14];
    private int _headerLength;
    private ulong _payloadLeft;
    private long _messageLength;

    // A client's close frame is unmasked here as it passes (at most 125 bytes: a control frame) to check its reason.
    private byte[]? _closePayload;
    private int _closeLength;
    private int _closeExpected = -1;
    private volatile bool _violated;
    private volatile bool _closeFrameSent;

    /// <summary>Whether a close frame went out (ours on a violation, or the WebSocket's own on any close).</summary>
    public bool CloseFrameSent => _closeFrameSent;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_violated)
        {
            return ValueTask.FromResult(0);
        }

        // A zero-byte read (an idle session waiting for data) has nothing to inspect: hand it straight down, so an idle
        // session keeps no state machine of ours alive.
        return buffer.IsEmpty ? inner.ReadAsync(buffer, cancellationToken) : ReadAndInspectAsync(buffer, cancellationToken);
    }

    private async ValueTask<int> ReadAndInspectAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read > 0 && Inspect(buffer.Span[..read]) is { } violation)
        {
            await FailAsync(violation.Code, violation.Reason).ConfigureAwait(false);
            return 0;
        }

        return read;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Fast path (every frame of a fan-out): the gate is free, so it is taken without waiting.
        if (!_writeGate.Wait(0, CancellationToken.None))
        {
            return WriteGatedAsync(buffer, cancellationToken);
        }

        NoteCloseFrame(buffer.Span);
        ValueTask write;
        try
        {
            write = _violated ? default : inner.WriteAsync(buffer, cancellationToken);
        }
        catch
        {
            _writeGate.Release();
            throw;
        }

        // Completed at once (the usual case), the async method below returns without allocating.
        return ReleaseAfterAsync(write);
    }

    private async ValueTask ReleaseAfterAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async ValueTask WriteGatedAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_violated)
            {
                NoteCloseFrame(buffer.Span);
                await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>The server WebSocket writes each frame in one write: a whole unmasked close frame is recognised by its shape.</summary>
    private void NoteCloseFrame(ReadOnlySpan<byte> write)
    {
        if (write.Length is >= 2 and <= 127 && write[0] == 0x88 && write[1] == write.Length - 2)
        {
            _closeFrameSent = true;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await FlushQuietlyAsync().ConfigureAwait(false);
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The session has flushed (FlushQuietlyAsync) before disposing its WebSocket, which disposes this stream.
            inner.Dispose();
            _writeGate.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Lets a close frame the WebSocket just wrote reach the wire before the connection goes (bounded, errors ignored).</summary>
    internal async ValueTask FlushQuietlyAsync()
    {
        try
        {
            // Wall time, as the socket's own send timeouts: a peer that reads nothing must not hold the session's end.
            await inner.FlushAsync().WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or TimeoutException)
        {
            // Nothing left to flush to.
        }
    }

    private (ushort Code, string Reason)? Inspect(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_payloadLeft > 0)
            {
                var skip = (int)Math.Min(_payloadLeft, (ulong)bytes.Length);
                _payloadLeft -= (ulong)skip;
                if (_closeExpected >= 0 && CollectClosePayload(bytes[..skip]) is { } closeViolation)
                {
                    return closeViolation;
                }

                bytes = bytes[skip..];
                continue;
            }

            _header[_headerLength++] = bytes[0];
            bytes = bytes[1..];
            if (HeaderSize() is not { } size || _headerLength < size)
            {
                continue;
            }

            var opcode = _header[0] & 0x0F;
            var fin = (_header[0] & 0x80) != 0;
            if ((_header[1] & 0x80) == 0)
            {
                return (1002, "client frames must be masked");
            }

            var length = PayloadLength();
            _headerLength = 0;
            if (length > long.MaxValue)
            {
                return (1002, "64-bit payload length with the most significant bit set");
            }

            _payloadLeft = length;
            if (opcode == 0x8 && length is > 2 and <= 125)
            {
                _closePayload ??= new byte[125 + 4];
                _header.AsSpan(size - 4, 4).CopyTo(_closePayload.AsSpan(125));
                _closeExpected = (int)length;
                _closeLength = 0;
            }
            else if (opcode is 0x0 or 0x1 or 0x2)
            {
                var total = (opcode == 0x0 ? _messageLength : 0) + (long)Math.Min(length, (ulong)maxMessageSize + 1);
                if (total > maxMessageSize)
                {
                    return (1009, $"message larger than {maxMessageSize} bytes");
                }

                _messageLength = fin ? 0 : total;
            }
        }

        return null;
    }

    private (ushort Code, string Reason)? CollectClosePayload(ReadOnlySpan<byte> masked)
    {
        var payload = _closePayload!;
        foreach (var b in masked)
        {
            payload[_closeLength] = (byte)(b ^ payload[125 + (_closeLength & 3)]);
            _closeLength++;
        }

        if (_closeLength < _closeExpected)
        {
            return null;
        }

        var reason = payload.AsSpan(2, _closeExpected - 2);
        _closeExpected = -1;
        return System.Text.Unicode.Utf8.IsValid(reason) ? null : (1007, "close reason is not valid UTF-8");
    }

    /// <summary>The whole header's size once its second byte is known (2, 4 or 10 bytes, plus 4 for a mask).</summary>
    private int? HeaderSize()
    {
        if (_headerLength < 2)
        {
            return null;
        }

        var mask = (_header[1] & 0x80) != 0 ? 4 : 0;
        return (_header[1] & 0x7F) switch
        {
            126 => 4 + mask,
            127 => 10 + mask,
            _ => 2 + mask,
        };
    }

    private ulong PayloadLength() => (_header[1] & 0x7F) switch
    {
        126 => BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2)),
        127 => BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2)),
        var small => (ulong)small,
    };

    private async Task FailAsync(ushort code, string reason)
    {
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_violated)
            {
                return;
            }

            _violated = true;
            _closeFrameSent = true;
            var reasonBytes = System.Text.Encoding.UTF8.GetBytes(reason);
            var frame = new byte[4 + reasonBytes.Length];
            frame[0] = 0x88;
            frame[1] = (byte)(2 + reasonBytes.Length);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), code);
            reasonBytes.CopyTo(frame, 4);
            try
            {
                await inner.WriteAsync(frame).ConfigureAwait(false);
                await inner.FlushAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The client is gone already; the connection ends either way.
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }
}
