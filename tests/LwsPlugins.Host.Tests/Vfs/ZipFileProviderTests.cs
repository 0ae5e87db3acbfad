using System.IO.Compression;
using System.Text;
using LwsPlugins.Host.Vfs;

namespace LwsPlugins.Host.Tests.Vfs;

[TestFixture]
public sealed class ZipFileProviderTests
{
    private string _path = null!;

    [SetUp]
    public void BuildArchive()
    {
        _path = Path.Combine(Path.GetTempPath(), "lws-zip-" + Guid.NewGuid().ToString("N") + ".zip");
        using var zip = ZipFile.Open(_path, ZipArchiveMode.Create);
        foreach (var name in new[] { "index.html", "docs/a.txt", "../evil.txt", "/abs.txt", "c:/drive.txt", "docs/../../up.txt", "back\\slash.txt", "./dot.txt" })
        {
            using var data = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
            data.Write(Encoding.UTF8.GetBytes("content of " + name));
        }
    }

    [TearDown]
    public void DeleteArchive() => File.Delete(_path);

    [Test]
    public void EntriesWithUnsafeNames_AreNeverServed()
    {
        var provider = new ZipFileProvider(_path);

        Assert.That(provider.Skipped, Is.EqualTo(6));
        Assert.That(provider.GetDirectoryContents("/").Select(f => f.Name), Is.EquivalentTo(new[] { "index.html", "docs" }));
        Assert.That(provider.GetFileInfo("/evil.txt").Exists, Is.False);
        Assert.That(provider.GetFileInfo("/../evil.txt").Exists, Is.False);
        Assert.That(provider.GetFileInfo("/abs.txt").Exists, Is.False);
        Assert.That(provider.GetFileInfo("/up.txt").Exists, Is.False);
    }

    [Test]
    public void Entry_ReadsInflated_AndSeeksForward()
    {
        var provider = new ZipFileProvider(_path);
        var file = provider.GetFileInfo("/docs/a.txt");

        using var stream = file.CreateReadStream();
        stream.Seek(11, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);

        Assert.That(file.Length, Is.EqualTo("content of docs/a.txt".Length));
        Assert.That(reader.ReadToEnd(), Is.EqualTo("docs/a.txt"));
    }

    [Test]
    public void Folders_AreDirectories_NotFiles()
    {
        var provider = new ZipFileProvider(_path);

        Assert.That(provider.GetFileInfo("/docs").Exists, Is.False);
        Assert.That(provider.GetDirectoryContents("/docs").Single().Name, Is.EqualTo("a.txt"));
    }

    [Test]
    public void ArchiveReplacedOnDisk_IsReadAgain_AndADamagedOneServesNothingUntilItIsFixed()
    {
        var provider = new ZipFileProvider(_path);
        var token = provider.Watch("/index.html");
        Assert.That(token.HasChanged, Is.False);

        File.WriteAllText(_path + ".new", "not a zip archive");
        File.Move(_path + ".new", _path, overwrite: true);
        Assert.That(token.HasChanged, Is.True);
        Assert.That(provider.GetFileInfo("/index.html").Exists, Is.False, "a damaged archive serves nothing");

        using (var zip = ZipFile.Open(_path + ".new", ZipArchiveMode.Create))
        {
            using var data = zip.CreateEntry("fixed.txt", CompressionLevel.Optimal).Open();
            data.Write(Encoding.UTF8.GetBytes("fixed"));
        }

        File.Move(_path + ".new", _path, overwrite: true);
        var fixedEntry = provider.GetFileInfo("/fixed.txt");
        Assert.That(fixedEntry.Exists, Is.True);
        using var reader = new StreamReader(fixedEntry.CreateReadStream());
        Assert.That(reader.ReadToEnd(), Is.EqualTo("fixed"));
        Assert.That(provider.Skipped, Is.Zero);
        Assert.That(provider.Watch("/fixed.txt").HasChanged, Is.False);
    }
}
