using System.Buffers.Binary;
using Microsoft.Extensions.FileProviders;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// The gzip representation of a deflated zip entry, made without recompressing (RFC 1952): a 10-byte header, the
/// entry's raw deflate data as it lies in the archive, then the CRC-32 and the size the archive records.
/// </summary>
internal sealed class GzipFileInfo(ZipEntryFileInfo entry) : IFileInfo
{
    private const int HeaderLength = 10;
    private const int TrailerLength = 8;

    // ID1 ID2, CM = 8 (deflate), FLG = 0, MTIME = 0 (unknown), XFL = 0, OS = 255 (unknown).
    private static readonly byte[] s_header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

    public ZipEntryFileInfo Entry => entry;

    public bool Exists => true;

    public long Length => HeaderLength + entry.Entry.CompressedSize + TrailerLength;

    public string? PhysicalPath => null;

    public string Name => entry.Name;

    public DateTimeOffset LastModified => entry.LastModified;

    public bool IsDirectory => false;

    public Stream CreateReadStream()
    {
        var trailer = new byte[TrailerLength];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, entry.Entry.Crc32);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(4), (uint)entry.Entry.UncompressedSize);
        return new SegmentedReadStream(entry.ArchivePath, entry.DataOffset, entry.Entry.CompressedSize, s_header, trailer);
    }
}
