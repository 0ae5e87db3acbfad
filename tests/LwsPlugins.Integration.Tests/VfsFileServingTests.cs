using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// The VFS and file serving over real loopback HTTP: providers chosen by longest prefix, zip archives with gzip
/// passthrough, conditional and range requests, redirects, MIME types, and traversal attempts.
/// </summary>
[TestFixture]
public sealed class VfsFileServingTests
{
    private const string Secret = "TOP-SECRET-CONTENT";
    private const string Vhost = "vfs.test";
    private static readonly string s_readme = string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i}: the quick brown fox jumps over the lazy dog\n"));
    private static readonly string s_stored = "stored as it is, " + new string('s', 500);
    private static readonly string s_page = string.Concat(Enumerable.Range(0, 100).Select(i => $"<p>{i:D4}</p>\n"));

    private string _root = null!;
    private string _zipPath = null!;
    private LoopbackServer _server = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _root = Path.Combine(Path.GetTempPath(), "lws-vfs-" + Guid.NewGuid().ToString("N"));
        var www = Directory.CreateDirectory(Path.Combine(_root, "www")).FullName;
        Directory.CreateDirectory(Path.Combine(www, "empty"));
        Directory.CreateDirectory(Path.Combine(_root, "a", "b"));
        Directory.CreateDirectory(Path.Combine(_root, "b"));
        await File.WriteAllTextAsync(Path.Combine(_root, "secret.txt"), Secret);
        await File.WriteAllTextAsync(Path.Combine(www, "index.html"), "<p>www</p>");
        await File.WriteAllTextAsync(Path.Combine(www, "page.html"), s_page);
        await File.WriteAllTextAsync(Path.Combine(www, "data.unknownext"), "unknown");
        await File.WriteAllTextAsync(Path.Combine(www, "data.lws"), "mapped");
        File.CreateSymbolicLink(Path.Combine(www, "link-out.txt"), Path.Combine(_root, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(www, "relative-out.txt"), "../secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(www, "linkdir"), _root);
        File.CreateSymbolicLink(Path.Combine(www, "link-in.html"), "page.html");
        await File.WriteAllTextAsync(Path.Combine(_root, "a", "who.txt"), "folder a");
        await File.WriteAllTextAsync(Path.Combine(_root, "a", "b", "who.txt"), "folder a/b, shadowed");
        await File.WriteAllTextAsync(Path.Combine(_root, "b", "who.txt"), "folder b");

        _zipPath = Path.Combine(_root, "site.zip");
        using (var zip = ZipFile.Open(_zipPath, ZipArchiveMode.Create))
        {
            Add(zip, "who.txt", "zip", CompressionLevel.Optimal);
            Add(zip, "index.html", "<p>zip index</p>", CompressionLevel.Optimal);
            Add(zip, "docs/readme.txt", s_readme, CompressionLevel.Optimal);
            Add(zip, "stored.txt", s_stored, CompressionLevel.NoCompression);
            Add(zip, "../evil.txt", Secret, CompressionLevel.Optimal);
            Add(zip, "/abs.txt", Secret, CompressionLevel.Optimal);
            Add(zip, "docs/../../evil2.txt", Secret, CompressionLevel.Optimal);
        }

        var vhost = LoopbackServer.Vhost(Vhost, "dumb-increment-protocol");
        vhost.Mounts =
        [
            new MountOptions { MountPoint = "/", Origin = www, CacheControl = "max-age=60", MimeTypes = new Dictionary<string, string> { [".lws"] = "text/x-lws" } },
            new MountOptions { MountPoint = "/v", Origin = "file:///a" },
            new MountOptions { MountPoint = "/zip", Origin = "file:///z" },
            new MountOptions { MountPoint = "/old", Redirect = "https://example.com/new", RedirectStatus = 302 },
            new MountOptions { MountPoint = "/moved", Redirect = "/zip/" },
        ];
        _server = await LoopbackServer.StartAsync(
            new LwsServerOptions
            {
                PluginsPath = LoopbackServer.BundledPluginsPath,
                FileProviders =
                [
                    new FileProviderOptions { Prefix = "/a", Folder = Path.Combine(_root, "a") },
                    new FileProviderOptions { Prefix = "/a/b", Folder = Path.Combine(_root, "b") },
                    new FileProviderOptions { Prefix = "/a/b/c", Zip = _zipPath },
                    new FileProviderOptions { Prefix = "/z", Zip = _zipPath },
                ],
                Vhosts = [vhost],
            },
            TimeProvider.System);
        _http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, AllowAutoRedirect = false }) { Timeout = WsClient.DefaultTimeout };
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [TestCase("/v/who.txt", "folder a")]
    [TestCase("/v/b/who.txt", "folder b")]
    [TestCase("/v/b/c/who.txt", "zip")]
    public async Task Path_IsServedByTheProviderWithTheLongestMatchingPrefix(string path, string expected)
    {
        using var response = await _http.GetAsync(Uri(path));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(expected));
    }

    [Test]
    public async Task DeflatedZipEntry_IsSentAsItsRawDeflateDataInGzipFraming_ToAClientAcceptingGzip()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Uri("/zip/docs/readme.txt"));
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));

        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        var (raw, crc) = RawDeflateData("docs/readme.txt");
        byte[] expected = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, .. raw, .. BitConverter.GetBytes(crc), .. BitConverter.GetBytes(s_readme.Length)];
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentEncoding, Is.EqualTo(new[] { "gzip" }));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        Assert.That(response.Headers.Vary, Does.Contain("Accept-Encoding"));
        Assert.That(response.Headers.ETag, Is.Not.Null);
        Assert.That(raw, Has.Length.LessThan(s_readme.Length / 4), "the entry is really deflated");
        Assert.That(body, Is.EqualTo(expected));
        Assert.That(Gunzip(body), Is.EqualTo(s_readme));
    }

    [Test]
    public async Task DeflatedZipEntry_IsInflated_ForAClientNotAcceptingGzip()
    {
        using var response = await _http.GetAsync(Uri("/zip/docs/readme.txt"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentEncoding, Is.Empty);
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(s_readme.Length));
        Assert.That(response.Headers.Vary, Does.Contain("Accept-Encoding"));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(s_readme));
    }

    [Test]
    public async Task StoredZipEntry_IsServedAsItIs_EvenToAClientAcceptingGzip()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Uri("/zip/stored.txt"));
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));

        using var response = await _http.SendAsync(request);

        Assert.That(RawDeflateData("stored.txt").Raw, Is.EqualTo(Encoding.UTF8.GetBytes(s_stored)), "the entry is really stored");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentEncoding, Is.Empty);
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(s_stored));
    }

    [TestCase("/zip/", "<p>zip index</p>")]
    [TestCase("/", "<p>www</p>")]
    public async Task FolderRequest_GetsTheDefaultDocument(string path, string expected)
    {
        using var response = await _http.GetAsync(Uri(path));

        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(expected));
    }

    [TestCase("/page.html", null)]
    [TestCase("/zip/docs/readme.txt", null)]
    [TestCase("/zip/docs/readme.txt", "gzip")]
    public async Task MatchingETag_Gets304(string path, string? acceptEncoding)
    {
        using var first = await SendAsync(HttpMethod.Get, path, acceptEncoding);
        var etag = first.Headers.ETag!;

        using var again = await SendAsync(HttpMethod.Get, path, acceptEncoding, r => r.Headers.IfNoneMatch.Add(etag));
        using var since = await SendAsync(HttpMethod.Get, path, acceptEncoding, r => r.Headers.IfModifiedSince = first.Content.Headers.LastModified);

        Assert.That(first.Content.Headers.LastModified, Is.Not.Null);
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(await again.Content.ReadAsByteArrayAsync(), Is.Empty);
        Assert.That(since.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
    }

    [Test]
    public async Task GzipAndIdentityRepresentations_HaveDifferentETags()
    {
        using var identity = await SendAsync(HttpMethod.Get, "/zip/docs/readme.txt", null);
        using var gzip = await SendAsync(HttpMethod.Get, "/zip/docs/readme.txt", "gzip");

        Assert.That(gzip.Headers.ETag, Is.Not.EqualTo(identity.Headers.ETag));
    }

    [TestCase("/page.html")]
    [TestCase("/zip/docs/readme.txt")]
    [TestCase("/zip/stored.txt")]
    public async Task Range_Gets206WithThoseBytes(string path)
    {
        using var whole = await SendAsync(HttpMethod.Get, path, null);
        var all = await whole.Content.ReadAsByteArrayAsync();

        using var part = await SendAsync(HttpMethod.Get, path, null, r => r.Headers.Range = new RangeHeaderValue(100, 199));

        Assert.That(part.StatusCode, Is.EqualTo(HttpStatusCode.PartialContent));
        Assert.That(part.Content.Headers.ContentRange?.ToString(), Is.EqualTo($"bytes 100-199/{all.Length}"));
        Assert.That(await part.Content.ReadAsByteArrayAsync(), Is.EqualTo(all[100..200]));
    }

    [TestCase("/page.html")]
    [TestCase("/zip/docs/readme.txt")]
    public async Task UnsatisfiableRange_Gets416(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, r => r.Headers.Range = new RangeHeaderValue(10_000_000, null));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestedRangeNotSatisfiable));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [TestCase("/page.html", null)]
    [TestCase("/zip/docs/readme.txt", null)]
    [TestCase("/zip/docs/readme.txt", "gzip")]
    public async Task Head_GivesTheHeadersOfGet_WithoutABody(string path, string? acceptEncoding)
    {
        using var get = await SendAsync(HttpMethod.Get, path, acceptEncoding);
        using var head = await SendAsync(HttpMethod.Head, path, acceptEncoding);

        Assert.That(head.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(head.Content.Headers.ContentLength, Is.EqualTo(get.Content.Headers.ContentLength));
        Assert.That(head.Headers.ETag, Is.EqualTo(get.Headers.ETag));
        Assert.That(await head.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [TestCase("/old", HttpStatusCode.Found, "https://example.com/new")]
    [TestCase("/old/any/thing.html", HttpStatusCode.Found, "https://example.com/new")]
    [TestCase("/moved/", HttpStatusCode.MovedPermanently, "/zip/")]
    [TestCase("/zip", HttpStatusCode.MovedPermanently, "/zip/")]
    [TestCase("/v?x=1", HttpStatusCode.MovedPermanently, "/v/?x=1")]
    public async Task Redirects_AndMountPointsWithoutTheirTrailingSlash(string path, HttpStatusCode status, string location)
    {
        using var response = await _http.GetAsync(Uri(path));

        Assert.That(response.StatusCode, Is.EqualTo(status));
        Assert.That(response.Headers.Location?.OriginalString, Is.EqualTo(location));
    }

    [Test]
    public async Task UnknownExtension_Gets415_AndAMappedOneItsType()
    {
        using var unknown = await _http.GetAsync(Uri("/data.unknownext"));
        using var mapped = await _http.GetAsync(Uri("/data.lws"));

        Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(await unknown.Content.ReadAsStringAsync(), Is.Empty);
        Assert.That(mapped.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(mapped.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/x-lws"));
    }

    [Test]
    public async Task MountCachePolicy_IsSent()
    {
        using var response = await _http.GetAsync(Uri("/page.html"));

        Assert.That(response.Headers.CacheControl?.ToString(), Is.EqualTo("max-age=60"));
    }

    [Test]
    public async Task FolderWithoutDefaultDocument_IsNotListed()
    {
        using var response = await _http.GetAsync(Uri("/empty/"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task SymlinkInsideTheRoot_IsServed()
    {
        using var response = await _http.GetAsync(Uri("/link-in.html"));

        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(s_page));
    }

    [Test]
    public void ZipEntriesWithUnsafeNames_AreLoggedAsNeverServed()
        => Assert.That(
            _server.Logs.Entries.Where(e => e.EventId.Id == 901).Select(e => e.Message),
            Has.Some.Contains("3 entries of " + _zipPath + " are never served"));

    [TestCase("/../secret.txt")]
    [TestCase("/../../secret.txt")]
    [TestCase("/%2e%2e/secret.txt")]
    [TestCase("/%2E%2E/secret.txt")]
    [TestCase("/.%2e/secret.txt")]
    [TestCase("/%2e./secret.txt")]
    [TestCase("/..%2fsecret.txt")]
    [TestCase("/%2e%2e%2fsecret.txt")]
    [TestCase("/..%2Fsecret.txt")]
    [TestCase("/..%252fsecret.txt")]
    [TestCase("/..\\secret.txt")]
    [TestCase("/..%5csecret.txt")]
    [TestCase("/%5c..%5csecret.txt")]
    [TestCase("/secret.txt%00.html")]
    [TestCase("/index.html%00/../../secret.txt")]
    [TestCase("/%c0%ae%c0%ae/secret.txt")]
    [TestCase("/%c0%ae%c0%ae%c0%afsecret.txt")]
    [TestCase("/%e0%80%ae%e0%80%ae/secret.txt")]
    [TestCase("/link-out.txt")]
    [TestCase("/relative-out.txt")]
    [TestCase("/linkdir/secret.txt")]
    [TestCase("/linkdir/../secret.txt")]
    [TestCase("/./../secret.txt")]
    [TestCase("//etc/passwd")]
    [TestCase("/..%2f..%2f..%2f..%2fetc%2fpasswd")]
    [TestCase("/v/../../secret.txt")]
    [TestCase("/v/%2e%2e/%2e%2e/secret.txt")]
    [TestCase("/v/..%2f..%2fsecret.txt")]
    [TestCase("/zip/../secret.txt")]
    [TestCase("/zip/evil.txt")]
    [TestCase("/zip/../evil.txt")]
    [TestCase("/zip/..%2fevil.txt")]
    [TestCase("/zip/%2e%2e/evil.txt")]
    [TestCase("/zip/abs.txt")]
    [TestCase("/zip//abs.txt")]
    [TestCase("/zip/evil2.txt")]
    [TestCase("/zip/docs/..%2f..%2fevil2.txt")]
    [TestCase("/zip/%2fetc%2fpasswd")]
    public async Task TraversalAttempt_IsRefusedWith4xx_AndNoFileContent(string target)
    {
        var (status, body) = await RawGetAsync(target);
        await TestContext.Out.WriteLineAsync($"{target} -> {status}");

        Assert.That(status, Is.InRange(400, 499), body);
        Assert.That(body, Does.Not.Contain(Secret).And.Not.Contain("root:"));
    }

    private static void Add(ZipArchive zip, string name, string content, CompressionLevel level)
    {
        using var stream = zip.CreateEntry(name, level).Open();
        stream.Write(Encoding.UTF8.GetBytes(content));
    }

    private static string Gunzip(byte[] body)
    {
        using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private Uri Uri(string path) => _server.HttpUri(Vhost, path);

    /// <summary>The entry's data as the archive stores it, found by scanning for its local header (independent of the server's reader).</summary>
    private (byte[] Raw, uint Crc) RawDeflateData(string name)
    {
        var bytes = File.ReadAllBytes(_zipPath);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        for (var i = 0; i + 30 < bytes.Length; i++)
        {
            if (BitConverter.ToUInt32(bytes, i) == 0x04034b50 && BitConverter.ToUInt16(bytes, i + 26) == nameBytes.Length
                && bytes.AsSpan(i + 30, nameBytes.Length).SequenceEqual(nameBytes))
            {
                var compressed = BitConverter.ToInt32(bytes, i + 18);
                var start = i + 30 + nameBytes.Length + BitConverter.ToUInt16(bytes, i + 28);
                using var zip = ZipFile.OpenRead(_zipPath);
                return (bytes[start..(start + compressed)], zip.GetEntry(name)!.Crc32);
            }
        }

        throw new AssertionException($"no local header for '{name}'");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? acceptEncoding, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, Uri(path));
        if (acceptEncoding is not null)
        {
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(acceptEncoding));
        }

        configure?.Invoke(request);
        return await _http.SendAsync(request);
    }

    /// <summary>Sends the request target exactly as given (HttpClient would normalize it) and reads the whole response.</summary>
    private async Task<(int Status, string Body)> RawGetAsync(string target)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(_server.EndPoint(Vhost));
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: {Vhost}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var response = await reader.ReadToEndAsync().WaitAsync(WsClient.DefaultTimeout);
        var status = int.Parse(response.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, response);
    }
}
