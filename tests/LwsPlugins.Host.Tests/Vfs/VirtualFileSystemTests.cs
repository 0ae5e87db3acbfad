using LwsPlugins.Host.Vfs;
using Microsoft.Extensions.FileProviders;
using Moq;

namespace LwsPlugins.Host.Tests.Vfs;

[TestFixture]
public sealed class VirtualFileSystemTests
{
    [TestCase("/a/x.txt", "a", "/x.txt")]
    [TestCase("/a/b/x.txt", "ab", "/x.txt")]
    [TestCase("/a/b/c/x.txt", "abc", "/x.txt")]
    [TestCase("/a/b/c/d/x.txt", "abc", "/d/x.txt")]
    [TestCase("/a/b", "ab", "")]
    [TestCase("/a/bc/x.txt", "a", "/bc/x.txt")]
    [TestCase("/ab/x.txt", "default", "/ab/x.txt")]
    [TestCase("/x.txt", "default", "/x.txt")]
    public void Path_GoesToTheLongestPrefixMatchingOnWholeSegments(string path, string expected, string expectedSubpath)
    {
        var (vfs, providers) = ThreeProviders();

        var provider = vfs.Resolve(path, out var subpath, out _);

        Assert.That(providers.Single(p => p.Value == provider).Key, Is.EqualTo(expected));
        Assert.That(subpath, Is.EqualTo(expectedSubpath));
    }

    [Test]
    public void GetFileInfo_AsksTheChosenProvider_WithThePathInsideIt()
    {
        var zip = new Mock<IFileProvider>();
        var file = Mock.Of<IFileInfo>(f => f.Exists);
        zip.Setup(p => p.GetFileInfo("/docs/readme.txt")).Returns(file);
        var vfs = new VirtualFileSystem(Mock.Of<IFileProvider>());
        vfs.Add("/bundle", zip.Object);

        Assert.That(vfs.GetFileInfo("/bundle/docs/readme.txt"), Is.SameAs(file));
    }

    [Test]
    public void AddingAProviderInAnyOrder_GivesTheSameChoice()
    {
        var vfs = new VirtualFileSystem();
        var deep = Mock.Of<IFileProvider>();
        var shallow = Mock.Of<IFileProvider>();
        vfs.Add("/a/b/c", deep);
        vfs.Add("/a", shallow);

        Assert.That(vfs.Resolve("/a/b/c/x", out _, out _), Is.SameAs(deep));
        Assert.That(vfs.Prefixes, Is.EqualTo(new[] { "/a/b/c", "/a" }));
    }

    [Test]
    public void RootPrefix_ServesWhatNoLongerPrefixMatches()
    {
        var vfs = new VirtualFileSystem(Mock.Of<IFileProvider>());
        var root = Mock.Of<IFileProvider>();
        vfs.Add("/", root);

        Assert.That(vfs.Resolve("/anything", out var subpath, out var prefix), Is.SameAs(root));
        Assert.That((subpath, prefix), Is.EqualTo(("/anything", "/")));
    }

    [Test]
    public void RemovedProvider_NoLongerServes()
    {
        var (vfs, providers) = ThreeProviders();

        Assert.That(vfs.Remove("/a/b/c"), Is.SameAs(providers["abc"]));
        Assert.That(vfs.Resolve("/a/b/c/x", out _, out _), Is.SameAs(providers["ab"]));
    }

    [TestCase("")]
    [TestCase("a")]
    [TestCase("/a/")]
    [TestCase("/a/../b")]
    [TestCase("/a//b")]
    [TestCase("/a\\b")]
    public void InvalidPrefix_IsRefused(string prefix)
        => Assert.That(() => new VirtualFileSystem().Add(prefix, Mock.Of<IFileProvider>()), Throws.ArgumentException);

    [Test]
    public void DuplicatePrefix_IsRefused()
    {
        var vfs = new VirtualFileSystem();
        vfs.Add("/a", Mock.Of<IFileProvider>());

        Assert.That(() => vfs.Add("/a", Mock.Of<IFileProvider>()), Throws.ArgumentException.With.Message.Contains("/a"));
    }

    [TestCase("/a/../secret")]
    [TestCase("/a/..")]
    [TestCase("/a/%2e%2e/secret")]
    [TestCase("/a\\..\\secret")]
    [TestCase("/a/x\0.txt")]
    public void UnsafePath_IsNotFound_WithoutAskingAnyProvider(string path)
    {
        var provider = new Mock<IFileProvider>(MockBehavior.Strict);
        var vfs = new VirtualFileSystem(provider.Object);
        vfs.Add("/a", provider.Object);

        Assert.That(vfs.GetFileInfo(path).Exists, Is.False);
        Assert.That(vfs.GetDirectoryContents(path).Exists, Is.False);
    }

    private static (VirtualFileSystem Vfs, Dictionary<string, IFileProvider> Providers) ThreeProviders()
    {
        var providers = new Dictionary<string, IFileProvider>
        {
            ["default"] = Mock.Of<IFileProvider>(), ["a"] = Mock.Of<IFileProvider>(), ["ab"] = Mock.Of<IFileProvider>(), ["abc"] = Mock.Of<IFileProvider>(),
        };
        var vfs = new VirtualFileSystem(providers["default"]);
        vfs.Add("/a/b", providers["ab"]);
        vfs.Add("/a", providers["a"]);
        vfs.Add("/a/b/c", providers["abc"]);
        return (vfs, providers);
    }
}
