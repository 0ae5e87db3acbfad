using Microsoft.Extensions.FileProviders;

namespace LwsPlugins.Host.Vfs;

/// <summary>A file of a <see cref="ZipFileProvider"/>: one entry of the archive, read (and inflated) from the archive file.</summary>
internal sealed class ZipEntryFileInfo(string archivePath, ZipCentralDirectoryEntry entry, long dataOffset) : IFileInfo
{
    public ZipCentralDirectoryEntry Entry => entry;

    public string ArchivePath => archivePath;

    public long DataOffset => dataOffset;

    public bool IsDeflated => entry.Method == ZipCentralDirectoryEntry.Deflated;

    public bool Exists => true;

    public long Length => entry.UncompressedSize;

    public string? PhysicalPath => null;

    public string Name => entry.Name[(entry.Name.LastIndexOf('/') + 1)..];

    public DateTimeOffset LastModified => entry.LastModified;

    public bool IsDirectory => false;

    public Stream CreateReadStream()
    {
        var data = new SegmentedReadStream(archivePath, dataOffset, entry.CompressedSize);
        return IsDeflated ? new InflatingReadStream(data, entry.UncompressedSize) : data;
    }
}
