using LwsPlugins.Host.Vfs.StaticFiles;

namespace LwsPlugins.Host.Tests.Vfs.StaticFiles;

[TestFixture]
public sealed class FileStateChangeTokenTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("lws-token-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void UnchangedFile_IsNotChanged_ReadAgainAndAgain()
    {
        var file = Write("a.txt", "same");
        var token = new FileStateChangeToken(file);
        for (var i = 0; i < 3; i++)
        {
            Assert.That(token.HasChanged, Is.False);
        }
    }

    [Test]
    public void ReplacedFile_WithTheSameLengthAndTime_IsChanged()
    {
        var file = Write("a.txt", "one");
        var time = File.GetLastWriteTimeUtc(file);
        var token = new FileStateChangeToken(file);
        var other = Write("b.txt", "two");
        File.SetLastWriteTimeUtc(other, time);
        File.Move(other, file, overwrite: true);
        Assert.That(token.HasChanged, Is.True, "another inode");
        Assert.That(token.HasChanged, Is.True, "and it stays changed");
    }

    [Test]
    public void WrittenDeletedOrCreatedFile_IsChanged()
    {
        var file = Write("a.txt", "one");
        var written = new FileStateChangeToken(file);
        File.AppendAllText(file, "more");
        Assert.That(written.HasChanged, Is.True);

        var deleted = new FileStateChangeToken(file);
        File.Delete(file);
        Assert.That(deleted.HasChanged, Is.True);

        var created = new FileStateChangeToken(file);
        Assert.That(created.HasChanged, Is.False, "still missing");
        Write("a.txt", "new");
        Assert.That(created.HasChanged, Is.True);
    }

    [Test]
    public void Link_IsChangedAtOnce_UnlessLinksAreFollowed()
    {
        var target = Write("target.zip", "zip");
        var link = Path.Combine(_folder, "link.zip");
        File.CreateSymbolicLink(link, target);
        Assert.That(new FileStateChangeToken(link).HasChanged, Is.True);
        var followed = new FileStateChangeToken(link, followLinks: true);
        Assert.That(followed.HasChanged, Is.False);
        File.AppendAllText(target, "more");
        Assert.That(followed.HasChanged, Is.True, "the file the link names was written");
    }

    [Test]
    public void Folder_IsAMissingFile()
    {
        var token = new FileStateChangeToken(_folder);
        Assert.That(token.HasChanged, Is.False);
        Assert.That(FileState.Read(FileState.NativePath(_folder), _folder, followLinks: false).Exists, Is.False);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }
}
