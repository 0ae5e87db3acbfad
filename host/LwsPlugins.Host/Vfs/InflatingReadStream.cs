using System.IO.Compression;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// A deflated zip entry, inflated as it is read. Its length is the entry's uncompressed size, and it seeks forward by
/// inflating and dropping, which is what a Range request needs from StaticFileMiddleware.
/// </summary>
internal sealed class InflatingReadStream(Stream deflated, long length) : Stream
{
    private readonly DeflateStream _inflater = new(deflated, CompressionMode.Decompress, leaveOpen: false);
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inflater.Read(buffer[..(int)Math.Min(buffer.Length, length - _position)]);
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _inflater.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], cancellationToken).ConfigureAwait(false);
        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        if (target < _position)
        {
            throw new NotSupportedException("an inflating stream only seeks forward.");
        }

        var scratch = new byte[16 * 1024];
        while (_position < target)
        {
            if (Read(scratch.AsSpan(0, (int)Math.Min(scratch.Length, target - _position))) == 0)
            {
                break;
            }
        }

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
            _inflater.Dispose();
        }

        base.Dispose(disposing);
    }
}
