using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using LwsPlugins.Host.Vfs;

namespace LwsPlugins.Host.Tests.Vfs;

[TestFixture]
public sealed class ZipCentralDirectoryTests
{
    private static readonly string s_text = string.Concat(Enumerable.Repeat("deflate me, deflate me again. ", 400));

    [Test]
    public void Read_GivesEveryEntryWithMethodSizesAndCrc_AsZipArchiveSeesThem()
    {
        using var archive = Build(("a.txt", s_text, CompressionLevel.Optimal), ("dir/b.txt", "bee", CompressionLevel.NoCompression), ("dir/", null, CompressionLevel.Optimal));

        var entries = ZipCentralDirectory.Read(archive);

        using var zip = new ZipArchive(archive, ZipArchiveMode.Read, leaveOpen: true);
        Assert.That(entries.Select(e => e.Name), Is.EqualTo(zip.Entries.Select(e => e.FullName)));
        for (var i = 0; i < entries.Count; i++)
        {
            Assert.That(entries[i].Crc32, Is.EqualTo(zip.Entries[i].Crc32), entries[i].Name);
            Assert.That(entries[i].CompressedSize, Is.EqualTo(zip.Entries[i].CompressedLength), entries[i].Name);
            Assert.That(entries[i].UncompressedSize, Is.EqualTo(zip.Entries[i].Length), entries[i].Name);
        }

        Assert.That(entries[0].Method, Is.EqualTo(ZipCentralDirectoryEntry.Deflated));
        Assert.That(entries[1].Method, Is.EqualTo(ZipCentralDirectoryEntry.Stored));
    }

    [Test]
    public void DataOffset_PointsAtTheRawDeflateData_WhichInflatesToTheOriginal()
    {
        using var archive = Build(("first.txt", "x", CompressionLevel.Optimal), ("a.txt", s_text, CompressionLevel.Optimal));
        var entry = ZipCentralDirectory.Read(archive)[1];

        var offset = ZipCentralDirectory.DataOffset(archive, entry);

        var raw = archive.ToArray().AsSpan((int)offset, (int)entry.CompressedSize).ToArray();
        using var inflater = new DeflateStream(new MemoryStream(raw), CompressionMode.Decompress);
        using var reader = new StreamReader(inflater, Encoding.UTF8);
        Assert.That(reader.ReadToEnd(), Is.EqualTo(s_text));
    }

    [Test]
    public void Read_FindsTheEndRecord_BehindAnArchiveComment()
    {
        using var archive = Build(("a.txt", "a", CompressionLevel.Optimal));
        var bytes = archive.ToArray();
        var comment = Encoding.ASCII.GetBytes("a comment with PK\u0005\u0006 inside it");
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(bytes.Length - 2), (ushort)comment.Length);

        var entries = ZipCentralDirectory.Read(new MemoryStream([.. bytes, .. comment]));

        Assert.That(entries.Single().Name, Is.EqualTo("a.txt"));
    }

    [Test]
    public void Read_OfAnEmptyArchive_GivesNoEntries()
        => Assert.That(ZipCentralDirectory.Read(Build()), Is.Empty);

    [Test]
    public void Read_RefusesZip64_WithAClearError()
    {
        using var archive = Build(("a.txt", "a", CompressionLevel.Optimal));
        var bytes = archive.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 22 + 16), 0xFFFFFFFF);

        var error = Assert.Throws<InvalidDataException>(() => ZipCentralDirectory.Read(new MemoryStream(bytes)));

        Assert.That(error!.Message, Does.Contain("ZIP64"));
    }

    [Test]
    public void Read_RefusesAnEntryWithZip64Sizes()
    {
        using var archive = Build(("a.txt", "a", CompressionLevel.Optimal));
        var bytes = archive.ToArray();
        var central = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(bytes.Length - 22 + 16));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(central + 20), 0xFFFFFFFF);

        Assert.That(() => ZipCentralDirectory.Read(new MemoryStream(bytes)), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("ZIP64"));
    }

    [TestCase(0)]
    [TestCase(10)]
    public void Read_RefusesWhatIsNotAZip(int length)
        => Assert.That(() => ZipCentralDirectory.Read(new MemoryStream(new byte[length])), Throws.InstanceOf<InvalidDataException>());

    [Test]
    public void Read_RefusesADamagedCentralDirectory()
    {
        using var archive = Build(("a.txt", "a", CompressionLevel.Optimal));
        var bytes = archive.ToArray();
        var central = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(bytes.Length - 22 + 16));
        bytes[central] = (byte)'X';

        Assert.That(() => ZipCentralDirectory.Read(new MemoryStream(bytes)), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("damaged"));
    }

    [Test]
    public void DataOffset_RefusesAMissingLocalHeader()
    {
        using var archive = Build(("a.txt", "a", CompressionLevel.Optimal));
        var entry = ZipCentralDirectory.Read(archive)[0] with { LocalHeaderOffset = 1 };

        Assert.That(() => ZipCentralDirectory.DataOffset(archive, entry), Throws.InstanceOf<InvalidDataException>());
    }

    private static MemoryStream Build(params (string Name, string? Content, CompressionLevel Level)[] entries)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content, level) in entries)
            {
                var entry = zip.CreateEntry(name, level);
                if (content is not null)
                {
                    using var data = entry.Open();
                    data.Write(Encoding.UTF8.GetBytes(content));
                }
            }
        }

        stream.Position = 0;
        return stream;
    }
}
