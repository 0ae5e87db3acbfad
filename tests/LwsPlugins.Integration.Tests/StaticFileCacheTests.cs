using System.IO.Compression;
using System.Net;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// The cache of small static files never serves a file that changed: each request after an edit, a deletion, a new
/// precompressed sibling, a replaced zip archive or a plugin provider's retirement gets what the provider has now, with
/// no wait (the change tokens are read on the request). And it stays within its bounds.
/// </summary>
[TestFixture]
public sealed class StaticFileCacheTests
{
    private const string Vhost = "cache.test";
    private string _root = null!;
    private HttpClient _http = null!;

    [SetUp]
    public void CreateFolder()
    {
        _root = Directory.CreateTempSubdirectory("lws-cache-").FullName;
        _http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None });
    }

    [TearDown]
    public void DeleteFolder()
    {
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task EditedFile_IsServedNew_OnTheNextRequest()
    {
        var file = Path.Combine(_root, "page.html");
        await File.WriteAllTextAsync(file, "version 1");
        await using var server = await StartAsync(new StaticFileCacheOptions());
        Assert.That(await GetStringAsync(server, "/page.html"), Is.EqualTo("version 1"));
        Assert.That(await GetStringAsync(server, "/page.html"), Is.EqualTo("version 1"));
        Assert.That(server.Context.Vfs.FileCache!.Entries, Is.EqualTo(1), "the file is cached");
        var etag = (await GetAsync(server, "/page.html")).Headers.ETag;

        // Same length, one second later (what a quick edit in an editor looks like).
        await File.WriteAllTextAsync(file, "version 2");
        File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddSeconds(1));
        using var edited = await GetAsync(server, "/page.html");
        Assert.That(await edited.Content.ReadAsStringAsync(), Is.EqualTo("version 2"));
        Assert.That(edited.Headers.ETag, Is.Not.EqualTo(etag));

        // A longer write within the same second is seen by its length.
        await File.WriteAllTextAsync(file, "version 3, longer");
        Assert.That(await GetStringAsync(server, "/page.html"), Is.EqualTo("version 3, longer"));
    }

    [Test]
    public async Task DeletedFile_Is404_OnTheNextRequest_AndACreatedOneIsServed()
    {
        var file = Path.Combine(_root, "gone.txt");
        await File.WriteAllTextAsync(file, "here");
        await using var server = await StartAsync(new StaticFileCacheOptions());
        Assert.That(await GetStringAsync(server, "/gone.txt"), Is.EqualTo("here"));
        File.Delete(file);
        using (var gone = await GetAsync(server, "/gone.txt"))
        {
            Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        await File.WriteAllTextAsync(file, "back again");
        Assert.That(await GetStringAsync(server, "/gone.txt"), Is.EqualTo("back again"));
    }

    [Test]
    public async Task DefaultDocument_CreatedBeforeTheServedOne_IsServedNext()
    {
        Directory.CreateDirectory(Path.Combine(_root, "docs"));
        await File.WriteAllTextAsync(Path.Combine(_root, "docs", "test.html"), "test page");
        await using var server = await StartAsync(new StaticFileCacheOptions());
        Assert.That(await GetStringAsync(server, "/docs/"), Is.EqualTo("test page"));
        await File.WriteAllTextAsync(Path.Combine(_root, "docs", "index.html"), "index page");
        Assert.That(await GetStringAsync(server, "/docs/"), Is.EqualTo("index page"), "index.html comes before test.html in the default documents");
    }

    [Test]
    public async Task GzipSibling_AddedAfterTheFileWasCached_IsServedToGzipClients()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "app.js"), "let a = 1;");
        await using var server = await StartAsync(new StaticFileCacheOptions());
        using (var before = await GetAsync(server, "/app.js", "gzip"))
        {
            Assert.That(before.Content.Headers.ContentEncoding, Is.Empty);
        }

        await File.WriteAllBytesAsync(Path.Combine(_root, "app.js.gz"), StaticFileResponseTests.Gzip("let a = 1;"));
        using var after = await GetAsync(server, "/app.js", "gzip");
        Assert.That(after.Content.Headers.ContentEncoding, Is.EqualTo(new[] { "gzip" }));
        Assert.That(after.Headers.Vary, Does.Contain("Accept-Encoding"));
    }

    [Test]
    public async Task ReplacedZipArchive_IsReadAgain_AndItsEntriesServedNew()
    {
        var zip = Path.Combine(_root, "site.zip");
        WriteZip(zip, "who.txt", "first archive");
        var options = Options(new StaticFileCacheOptions());
        options.FileProviders = [new FileProviderOptions { Prefix = "/site", Zip = zip }];
        options.Vhosts[0].Mounts = [new MountOptions { MountPoint = "/", Origin = "file:///site" }];
        await using var server = await LoopbackServer.StartAsync(options, TimeProvider.System);
        Assert.That(await GetStringAsync(server, "/who.txt"), Is.EqualTo("first archive"));
        Assert.That(await GetStringAsync(server, "/who.txt"), Is.EqualTo("first archive"));

        // Deployed as a new file renamed over the old one; its entries lie at other offsets.
        var next = Path.Combine(_root, "site.zip.new");
        WriteZip(next, "who.txt", "the second archive, longer", ("extra/new.txt", "new entry"));
        File.Move(next, zip, overwrite: true);
        Assert.That(await GetStringAsync(server, "/who.txt"), Is.EqualTo("the second archive, longer"));
        Assert.That(await GetStringAsync(server, "/extra/new.txt"), Is.EqualTo("new entry"));
    }

    [Test]
    public async Task ProviderOfAPrefix_ReplacedByItsNextGeneration_IsServedNew_AndRetiredIs404()
    {
        var first = new OneFileProvider("hello.txt", "generation 1");
        var second = new OneFileProvider("hello.txt", "generation 2");
        var options = Options(new StaticFileCacheOptions());
        var vhost = options.Vhosts[0];
        vhost.Mounts = [new MountOptions { MountPoint = "/files", Origin = "file:///plugin-files" }];
        options.Vhosts = [];
        await using var server = await LoopbackServer.StartAsync(options, TimeProvider.System);

        // The vhost's mount resolves its VFS folder when it is built, so the prefix is served before it is created.
        Assert.That(server.Context.Vfs.Exchange("/plugin-files", null, first), Is.True);
        await server.Context.CreateVhostAsync(vhost, CancellationToken.None);
        Assert.That(await GetStringAsync(server, "/files/hello.txt"), Is.EqualTo("generation 1"));
        Assert.That(await GetStringAsync(server, "/files/hello.txt"), Is.EqualTo("generation 1"));
        Assert.That(server.Context.Vfs.FileCache!.Entries, Is.EqualTo(1));

        // What a plugin reload does (LwsContext.SwitchFileProviders): the prefix moves to the next generation's provider.
        Assert.That(server.Context.Vfs.Exchange("/plugin-files", first, second), Is.True);
        Assert.That(await GetStringAsync(server, "/files/hello.txt"), Is.EqualTo("generation 2"));

        Assert.That(server.Context.Vfs.Exchange("/plugin-files", second, null), Is.True);
        using var gone = await GetAsync(server, "/files/hello.txt");
        Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task PluginProvider_Retired_IsNotServedFromTheCache()
    {
        using var plugins = new PluginFolder().CopyFrom(LoopbackServer.TestPluginsPath, "http-callback");
        var vhost = LoopbackServer.Vhost(Vhost, "http-callback-protocol");
        vhost.Mounts = [new MountOptions { MountPoint = "/files", Origin = "file:///plugin-files" }];
        await using var server = await LoopbackServer.StartAsync(plugins.Path, vhost);
        Assert.That(await GetStringAsync(server, "/files/hello.txt"), Does.StartWith("hello from plugin"));
        Assert.That(await GetStringAsync(server, "/files/hello.txt"), Does.StartWith("hello from plugin"));
        Assert.That(server.Context.Vfs.FileCache!.Entries, Is.EqualTo(1));

        var pluginFolder = Path.Combine(plugins.Path, "http-callback");
        Directory.Delete(pluginFolder, recursive: true);
        await server.Context.ReloadPluginAsync(pluginFolder);
        using var gone = await GetAsync(server, "/files/hello.txt");
        Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task Cache_HoldsAtMostMaxEntries_AndMaxBytes()
    {
        for (var i = 0; i < 10; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(_root, $"f{i}.txt"), new string((char)('a' + i), 1000));
        }

        await using var server = await StartAsync(new StaticFileCacheOptions { MaxEntries = 4, MaxBytes = 3500, MaxFileBytes = 1000 });
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.That(await GetStringAsync(server, $"/f{i}.txt"), Is.EqualTo(new string((char)('a' + i), 1000)));
                Assert.That(server.Context.Vfs.FileCache!.Entries, Is.InRange(1, 3), "3,500 bytes hold three files of 1,000");
                Assert.That(server.Context.Vfs.FileCache.Bytes, Is.LessThanOrEqualTo(3500));
            }
        }
    }

    [Test]
    public async Task Vhost_Destroyed_ReleasesItsCachedFiles()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, "a.txt"), "a");
        var server = await StartAsync(new StaticFileCacheOptions());
        await using (server)
        {
            await GetStringAsync(server, "/a.txt");
            Assert.That(server.Context.Vfs.FileCache!.Entries, Is.EqualTo(1));
            await server.Context.DestroyVhostAsync(Vhost, CancellationToken.None);
            await Eventually.WaitUntilAsync(() => server.Context.Vfs.FileCache.Entries == 0);
        }
    }

    [TestCase(-1, 10, 100, "staticFileCache.maxFileBytes: must not be negative, was -1.")]
    [TestCase(10, 0, 100, "staticFileCache.maxEntries: must be at least 1, was 0.")]
    [TestCase(100, 10, 50, "staticFileCache.maxBytes: must be at least maxFileBytes (100), was 50.")]
    public void BadOptions_AreRefused_NamingTheKey(long maxFileBytes, int maxEntries, long maxBytes, string expected)
    {
        var json = $$"""{ "vhosts": [], "staticFileCache": { "maxFileBytes": {{maxFileBytes}}, "maxEntries": {{maxEntries}}, "maxBytes": {{maxBytes}} } }""";
        var error = Assert.Throws<LwsConfigurationException>(() => LwsServerConfigFile.Parse(json, "server.json"));
        Assert.That(error!.Message, Does.Contain(expected));
    }

    private static void WriteZip(string path, string name, string content, params (string Name, string Content)[] more)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (entryName, text) in more.Prepend((name, content)))
        {
            using var stream = zip.CreateEntry(entryName, CompressionLevel.Optimal).Open();
            stream.Write(Encoding.UTF8.GetBytes(text));
        }
    }

    private LwsServerOptions Options(StaticFileCacheOptions cache)
    {
        var vhost = LoopbackServer.Vhost(Vhost);
        vhost.Mounts = [new MountOptions { MountPoint = "/", Origin = _root }];
        return new LwsServerOptions { PluginsPath = Path.Combine(_root, "no-plugins"), WatchPlugins = false, DestroyDelayMs = 0, Vhosts = [vhost], StaticFileCache = cache };
    }

    private async Task<LoopbackServer> StartAsync(StaticFileCacheOptions cache) => await LoopbackServer.StartAsync(Options(cache), TimeProvider.System);

    private async Task<HttpResponseMessage> GetAsync(LoopbackServer server, string path, string? acceptEncoding = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, server.HttpUri(Vhost, path));
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        return await _http.SendAsync(request);
    }

    private async Task<string> GetStringAsync(LoopbackServer server, string path)
    {
        using var response = await GetAsync(server, path);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), path);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>A provider with one file in memory and no change token (as an embedded-resource provider has).</summary>
    private sealed class OneFileProvider(string name, string content) : IFileProvider
    {
        public IFileInfo GetFileInfo(string subpath) => subpath.TrimStart('/') == name ? new MemoryFile(name, Encoding.UTF8.GetBytes(content)) : new NotFoundFileInfo(subpath);

        public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

        public IChangeToken Watch(string filter) => NullChangeToken.Singleton;
    }

    private sealed class MemoryFile(string name, byte[] content) : IFileInfo
    {
        public bool Exists => true;

        public long Length => content.Length;

        public string? PhysicalPath => null;

        public string Name => name;

        public DateTimeOffset LastModified { get; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public bool IsDirectory => false;

        public Stream CreateReadStream() => new MemoryStream(content, writable: false);
    }
}
