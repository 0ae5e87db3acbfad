using LwsPlugins.Host.Vfs;
using Microsoft.Extensions.FileProviders;

namespace LwsPlugins.Host.Tests.Vfs;

[TestFixture]
public sealed class ConfinedPhysicalFileProviderTests
{
    private string _dir = null!;
    private string _root = null!;

    [SetUp]
    public void CreateFolders()
    {
        _dir = Directory.CreateTempSubdirectory("lws-confined-").FullName;
        _root = Directory.CreateDirectory(Path.Combine(_dir, "root")).FullName;
        File.WriteAllText(Path.Combine(_dir, "secret.txt"), "secret");
        File.WriteAllText(Path.Combine(_root, "page.html"), "page");
        File.CreateSymbolicLink(Path.Combine(_root, "out.txt"), "../secret.txt");
        File.CreateSymbolicLink(Path.Combine(_root, "in.html"), "page.html");
        Directory.CreateSymbolicLink(Path.Combine(_root, "up"), "..");
        File.CreateSymbolicLink(Path.Combine(_root, "loop1"), "loop2");
        File.CreateSymbolicLink(Path.Combine(_root, "loop2"), "loop1");
    }

    [TearDown]
    public void DeleteFolders() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void PhysicalFileProvider_FollowsALinkOutOfItsRoot_WhichIsWhyTheConfinedOneExists()
    {
        using var physical = new PhysicalFileProvider(_root);

        Assert.That(physical.GetFileInfo("/out.txt").Exists, Is.True);
        Assert.That(physical.GetFileInfo("/up/secret.txt").Exists, Is.True);
    }

    [TestCase("/out.txt")]
    [TestCase("/up/secret.txt")]
    [TestCase("/up/root/../secret.txt")]
    [TestCase("/loop1")]
    [TestCase("/../secret.txt")]
    public void LinkOutOfTheRoot_IsNotFound(string path)
    {
        using var confined = new ConfinedPhysicalFileProvider(_root);

        Assert.That(confined.GetFileInfo(path).Exists, Is.False);
    }

    [Test]
    public void LinkInsideTheRoot_IsServedAsItsTarget()
    {
        using var confined = new ConfinedPhysicalFileProvider(_root);

        var file = confined.GetFileInfo("/in.html");

        Assert.That(file.Length, Is.EqualTo(4));
        Assert.That(new StreamReader(file.CreateReadStream()).ReadToEnd(), Is.EqualTo("page"));
    }

    [Test]
    public void FolderLinkedOutOfTheRoot_HasNoContents()
    {
        using var confined = new ConfinedPhysicalFileProvider(_root);

        Assert.That(confined.GetDirectoryContents("/up").Exists, Is.False);
        Assert.That(confined.GetDirectoryContents("/").Exists, Is.True);
    }
}
