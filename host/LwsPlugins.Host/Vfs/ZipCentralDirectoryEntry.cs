namespace LwsPlugins.Host.Vfs;

/// <summary>One record of a .zip archive's central directory: what the archive says about an entry.</summary>
/// <param name="Name">The entry's name as stored ('/'-separated; a folder ends with '/').</param>
/// <param name="Method">The compression method: 0 stored, 8 deflated.</param>
/// <param name="Flags">The general-purpose flags (bit 0: encrypted).</param>
/// <param name="Crc32">The CRC-32 of the uncompressed data.</param>
/// <param name="CompressedSize">The size of the data as stored.</param>
/// <param name="UncompressedSize">The size of the data once inflated.</param>
/// <param name="LocalHeaderOffset">Where the entry's local header starts in the archive.</param>
/// <param name="LastModified">The modification time (MS-DOS date and time, taken as UTC).</param>
internal sealed record ZipCentralDirectoryEntry(
    string Name, ushort Method, ushort Flags, uint Crc32, long CompressedSize, long UncompressedSize, long LocalHeaderOffset, DateTimeOffset LastModified)
{
    public const ushort Stored = 0;
    public const ushort Deflated = 8;

    public bool IsEncrypted => (Flags & 1) != 0;
}
