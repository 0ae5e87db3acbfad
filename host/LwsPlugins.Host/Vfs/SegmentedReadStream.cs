namespace LwsPlugins.Host.Vfs;

/// <summary>
/// A read-only, seekable stream of three parts: bytes in memory, a slice of a file, bytes in memory. It serves a
/// stored zip entry (the slice alone) and a deflated one as gzip (gzip header, raw deflate data, CRC-32 and size).
/// </summary>
internal sealed class SegmentedReadStream : Stream
{
    private readonly byte[] _head;
    private readonly byte[] _tail;
    private readonly FileStream _file;
    private readonly long _start;
    private readonly long _length;
    private long _position;

    public SegmentedReadStream(string path, long start, long length, byte[]? head = null, byte[]? tail = null)
    {
        _head = head ?? [];
        _tail = tail ?? [];
        _start = start;
        _length = length;
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _head.Length + _length + _tail.Length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (FromMemory(buffer) is { } copied)
        {
            return copied;
        }

        _file.Position = _start + _position - _head.Length;
        var read = _file.Read(buffer[..(int)Math.Min(buffer.Length, _head.Length + _length - _position)]);
        if (read == 0)
        {
            throw new EndOfStreamException("the archive is shorter than its directory says.");
        }

        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (FromMemory(buffer.Span) is { } copied)
        {
            return copied;
        }

        _file.Position = _start + _position - _head.Length;
        var read = await _file.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _head.Length + _length - _position)], cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            throw new EndOfStreamException("the archive is shorter than its directory says.");
        }

        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        _position = target;
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Copies from the head or the tail, or returns <see langword="null"/> when the position is in the file slice.</summary>
    private int? FromMemory(Span<byte> buffer)
    {
        if (buffer.Length == 0 || _position >= Length)
        {
            return 0;
        }

        ReadOnlySpan<byte> source;
        if (_position < _head.Length)
        {
            source = _head.AsSpan((int)_position);
        }
        else if (_position >= _head.Length + _length)
        {
            source = _tail.AsSpan((int)(_position - _head.Length - _length));
        }
        else
        {
            return null;
        }

        var count = Math.Min(buffer.Length, source.Length);
        source[..count].CopyTo(buffer);
        _position += count;
        return count;
    }
}
