using System.Buffers.Binary;
using System.Text;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// Reads a .zip archive's end-of-central-directory record, its central directory, and the local headers it points to
/// (PKWARE APPNOTE 4.3). System.IO.Compression inflates entries but does not tell where an entry's raw data lies, which
/// gzip passthrough needs. ZIP64 and multi-disk archives are refused.
/// </summary>
internal static class ZipCentralDirectory
{
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint EntrySignature = 0x02014b50;
    private const uint LocalSignature = 0x04034b50;
    private const int EndSize = 22;
    private const int EntrySize = 46;
    private const int LocalSize = 30;

    /// <summary>Reads every central-directory record of the archive in <paramref name="archive"/> (a seekable stream).</summary>
    /// <exception cref="InvalidDataException">The archive is not a zip, is damaged, or uses ZIP64 or several disks.</exception>
    public static IReadOnlyList<ZipCentralDirectoryEntry> Read(Stream archive)
    {
        var endOffset = FindEnd(archive);
        var end = ReadAt(archive, endOffset, EndSize);
        var disk = BinaryPrimitives.ReadUInt16LittleEndian(end.AsSpan(4));
        var directoryDisk = BinaryPrimitives.ReadUInt16LittleEndian(end.AsSpan(6));
        var entriesOnDisk = BinaryPrimitives.ReadUInt16LittleEndian(end.AsSpan(8));
        var entries = BinaryPrimitives.ReadUInt16LittleEndian(end.AsSpan(10));
        var size = BinaryPrimitives.ReadUInt32LittleEndian(end.AsSpan(12));
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(end.AsSpan(16));
        if (entries == 0xFFFF || size == 0xFFFFFFFF || offset == 0xFFFFFFFF || HasZip64Locator(archive, endOffset))
        {
            throw new InvalidDataException("ZIP64 archives are not supported.");
        }

        if (disk != 0 || directoryDisk != 0 || entriesOnDisk != entries)
        {
            throw new InvalidDataException("multi-disk (split) archives are not supported.");
        }

        if ((long)offset + size > endOffset)
        {
            throw new InvalidDataException("the central directory lies outside the archive.");
        }

        var directory = ReadAt(archive, offset, (int)size);
        var result = new List<ZipCentralDirectoryEntry>(entries);
        var at = 0;
        for (var i = 0; i < entries; i++)
        {
            if (at + EntrySize > directory.Length || BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at)) != EntrySignature)
            {
                throw new InvalidDataException($"central directory record {i} is damaged.");
            }

            var record = directory.AsSpan(at);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(record[8..]);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
            var time = BinaryPrimitives.ReadUInt16LittleEndian(record[12..]);
            var date = BinaryPrimitives.ReadUInt16LittleEndian(record[14..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
            var compressed = BinaryPrimitives.ReadUInt32LittleEndian(record[20..]);
            var uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(record[24..]);
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(record[28..]);
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(record[30..]);
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(record[32..]);
            var localOffset = BinaryPrimitives.ReadUInt32LittleEndian(record[42..]);
            var next = at + EntrySize + nameLength + extraLength + commentLength;
            if (next > directory.Length)
            {
                throw new InvalidDataException($"central directory record {i} is damaged.");
            }

            if (compressed == 0xFFFFFFFF || uncompressed == 0xFFFFFFFF || localOffset == 0xFFFFFFFF)
            {
                throw new InvalidDataException("ZIP64 archives are not supported.");
            }

            // Bit 11: the name is UTF-8; otherwise it is code page 437, of which ASCII names are the common case.
            var nameBytes = record.Slice(EntrySize, nameLength);
            var name = (flags & 0x800) != 0 ? Encoding.UTF8.GetString(nameBytes) : Encoding.Latin1.GetString(nameBytes);
            result.Add(new ZipCentralDirectoryEntry(name, method, flags, crc, compressed, uncompressed, localOffset, DosTime(date, time)));
            at = next;
        }

        return result;
    }

    /// <summary>Where the entry's data starts: after its local header, whose name and extra field lengths may differ from the central record's.</summary>
    /// <exception cref="InvalidDataException">The local header is missing or the data runs past the archive's end.</exception>
    public static long DataOffset(Stream archive, ZipCentralDirectoryEntry entry)
    {
        var local = ReadAt(archive, entry.LocalHeaderOffset, LocalSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(local) != LocalSignature)
        {
            throw new InvalidDataException($"entry '{entry.Name}': no local header at offset {entry.LocalHeaderOffset}.");
        }

        var data = entry.LocalHeaderOffset + LocalSize + BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(28));
        if (data + entry.CompressedSize > archive.Length)
        {
            throw new InvalidDataException($"entry '{entry.Name}': its data runs past the end of the archive.");
        }

        return data;
    }

    private static long FindEnd(Stream archive)
    {
        // The record is the last thing in the file, followed only by a comment of at most 65535 bytes.
        var tailLength = (int)Math.Min(archive.Length, EndSize + ushort.MaxValue);
        if (tailLength < EndSize)
        {
            throw new InvalidDataException("not a zip archive (too short).");
        }

        var tailStart = archive.Length - tailLength;
        var tail = ReadAt(archive, tailStart, tailLength);
        for (var i = tail.Length - EndSize; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndSignature
                && i + EndSize + BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 20)) == tail.Length)
            {
                return tailStart + i;
            }
        }

        throw new InvalidDataException("not a zip archive (no end of central directory record).");
    }

    private static bool HasZip64Locator(Stream archive, long endOffset)
        => endOffset >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(ReadAt(archive, endOffset - 20, 4)) == Zip64LocatorSignature;

    private static byte[] ReadAt(Stream archive, long offset, int count)
    {
        var buffer = new byte[count];
        archive.Position = offset;
        archive.ReadExactly(buffer);
        return buffer;
    }

    private static DateTimeOffset DosTime(ushort date, ushort time)
    {
        try
        {
            return new DateTimeOffset(
                1980 + (date >> 9), (date >> 5) & 0xF, date & 0x1F, time >> 11, (time >> 5) & 0x3F, Math.Min(59, (time & 0x1F) * 2), TimeSpan.Zero);
        }
        catch (ArgumentOutOfRangeException)
        {
            return new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
        }
    }
}
