using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace LwsPlugins.Host.Tests;

[TestFixture]
public sealed class LwsContextFileProviderTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("lws-ctx-vfs-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestCase("missing.zip", null, "fileProviders[0].zip: cannot serve")]
    [TestCase("not-a-zip.zip", null, "fileProviders[0].zip: cannot serve")]
    [TestCase(null, "missing-folder", "fileProviders[0].folder: folder")]
    [TestCase(null, null, "fileProviders[0]: needs exactly one")]
    public async Task BadProvider_FailsTheStart_NamingTheKey(string? zip, string? folder, string expected)
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "not-a-zip.zip"), "this is no archive");
        await using var context = new LwsContext(
            new LwsServerOptions { PluginsPath = _dir, WatchPlugins = false, FileProviders = [new FileProviderOptions { Prefix = "/bundle", Zip = zip, Folder = folder }] },
            NullLoggerFactory.Instance,
            TimeProvider.System,
            _dir);

        var error = Assert.ThrowsAsync<LwsConfigurationException>(() => context.StartAsync(CancellationToken.None));

        Assert.That(error!.Message, Does.StartWith(expected));
    }

    [Test]
    public async Task HostProvider_IsAddedToTheVfs()
    {
        await using var context = new LwsContext(new LwsServerOptions { PluginsPath = _dir, WatchPlugins = false }, NullLoggerFactory.Instance, TimeProvider.System, _dir);
        var provider = new Microsoft.Extensions.FileProviders.NullFileProvider();

        context.AddFileProvider("/host", provider);

        Assert.That(context.Vfs.Resolve("/host/x", out _, out _), Is.SameAs(provider));
    }

    [Test]
    public void MountKeys_AreReadFromTheConfigurationFile()
    {
        var options = LwsServerConfigFile.Parse(
            """
            { "vhosts": [ { "name": "a", "mounts": [
                { "mountPoint": "/app", "origin": "file:///bundle", "cacheControl": "max-age=60", "mimeTypes": { ".wasm": "application/wasm" } },
                { "mountPoint": "/old", "redirect": "https://example.com/", "redirectStatus": 302 } ] } ] }
            """,
            "server.json");

        var mounts = options.Vhosts[0].Mounts;
        Assert.That(mounts[0].CacheControl, Is.EqualTo("max-age=60"));
        Assert.That(mounts[0].MimeTypes[".wasm"], Is.EqualTo("application/wasm"));
        Assert.That((mounts[1].Redirect, mounts[1].RedirectStatus), Is.EqualTo(("https://example.com/", 302)));
    }
}
