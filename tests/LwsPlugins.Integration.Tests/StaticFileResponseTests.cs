using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// What a static file's response says, run twice: with the file cache (small files answered from memory) and without it
/// (StaticFileMiddleware from disk), so both give the same validators, preconditions, ranges and precompressed variants.
/// A file larger than the cache's limit is in both runs, so the send-file path is covered with the cache on as well.
/// </summary>
[TestFixture(true)]
[TestFixture(false)]
public sealed class StaticFileResponseTests(bool cached)
{
    private const string Vhost = "static.test";
    private static readonly string s_script = string.Concat(Enumerable.Range(0, 200).Select(i => $"console.log({i});\n"));
    private static readonly string s_large = string.Concat(Enumerable.Range(0, 4000).Select(i => $"<p>{i:D5}</p>\n"));

    private string _root = null!;
    private LoopbackServer _server = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _root = Directory.CreateTempSubdirectory("lws-static-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_root, "app.js"), s_script);
        await File.WriteAllBytesAsync(Path.Combine(_root, "app.js.gz"), Gzip(s_script));
        await File.WriteAllBytesAsync(Path.Combine(_root, "app.js.br"), Brotli(s_script));
        await File.WriteAllTextAsync(Path.Combine(_root, "plain.txt"), "0123456789abcdefghij");
        await File.WriteAllTextAsync(Path.Combine(_root, "large.html"), s_large);
        await File.WriteAllBytesAsync(Path.Combine(_root, "large.html.gz"), Gzip(s_large));
        var vhost = LoopbackServer.Vhost(Vhost);
        vhost.Mounts = [new MountOptions { MountPoint = "/", Origin = _root, CacheControl = "max-age=60" }];
        _server = await LoopbackServer.StartAsync(
            new LwsServerOptions
            {
                PluginsPath = Path.Combine(_root, "no-plugins"),
                WatchPlugins = false,
                Vhosts = [vhost],
                StaticFileCache = new StaticFileCacheOptions { Enabled = cached, MaxFileBytes = 16 * 1024 },
            },
            TimeProvider.System);
        _http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None });
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task File_IsServedWithItsValidators_AndTheSameOnTheSecondRequest()
    {
        using var first = await SendAsync("/plain.txt");
        using var second = await SendAsync("/plain.txt");
        foreach (var response in new[] { first, second })
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("0123456789abcdefghij"));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
            Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(20));
            Assert.That(response.Headers.AcceptRanges, Is.EqualTo(new[] { "bytes" }));
            Assert.That(response.Headers.CacheControl?.MaxAge, Is.EqualTo(TimeSpan.FromSeconds(60)));
            Assert.That(response.Headers.Vary, Is.Empty, "a file without precompressed siblings does not vary");
        }

        Assert.That(second.Headers.ETag, Is.EqualTo(first.Headers.ETag));
        Assert.That(second.Content.Headers.LastModified, Is.EqualTo(first.Content.Headers.LastModified));
        var modified = File.GetLastWriteTimeUtc(Path.Combine(_root, "plain.txt"));
        Assert.That(first.Content.Headers.LastModified, Is.EqualTo(new DateTimeOffset(modified.AddTicks(-(modified.Ticks % TimeSpan.TicksPerSecond)))));
    }

    [Test]
    public async Task Head_HasTheHeadersOfGet_AndNoBody()
    {
        using var get = await SendAsync("/plain.txt");
        using var head = await SendAsync("/plain.txt", method: HttpMethod.Head);
        Assert.That(head.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(head.Content.Headers.ContentLength, Is.EqualTo(20));
        Assert.That(head.Headers.ETag, Is.EqualTo(get.Headers.ETag));
        Assert.That(await head.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [TestCase("/plain.txt")]
    [TestCase("/large.html")]
    public async Task IfNoneMatch_WithTheETag_Is304_WithValidatorsAndNoBody(string path)
    {
        using var first = await SendAsync(path);
        using var again = await SendAsync(path, request => request.Headers.IfNoneMatch.Add(first.Headers.ETag!));
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(again.Headers.ETag, Is.EqualTo(first.Headers.ETag));
        Assert.That(await again.Content.ReadAsByteArrayAsync(), Is.Empty);

        using var other = await SendAsync(path, request => request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"other\"")));
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task IfModifiedSince_TheLastModified_Is304_AndAnEarlierDateIs200()
    {
        using var first = await SendAsync("/plain.txt");
        var lastModified = first.Content.Headers.LastModified!.Value;
        using var same = await SendAsync("/plain.txt", request => request.Headers.IfModifiedSince = lastModified);
        using var earlier = await SendAsync("/plain.txt", request => request.Headers.IfModifiedSince = lastModified.AddSeconds(-1));
        Assert.That(same.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(earlier.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task IfMatch_WithAnotherETag_Is412()
    {
        using var response = await SendAsync("/plain.txt", request => request.Headers.IfMatch.Add(new EntityTagHeaderValue("\"other\"")));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.PreconditionFailed));
    }

    [TestCase("bytes=2-5", "2345", "bytes 2-5/20")]
    [TestCase("bytes=15-", "fghij", "bytes 15-19/20")]
    [TestCase("bytes=-3", "hij", "bytes 17-19/20")]
    [TestCase("bytes=18-100", "ij", "bytes 18-19/20")]
    public async Task OneRange_Is206_WithThatRange(string range, string expected, string contentRange)
    {
        using var response = await SendAsync("/plain.txt", request => request.Headers.TryAddWithoutValidation("Range", range));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.PartialContent));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(expected));
        Assert.That(response.Content.Headers.ContentRange?.ToString(), Is.EqualTo(contentRange));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(expected.Length));
    }

    [TestCase("/plain.txt", "bytes=20-", 20)]
    [TestCase("/large.html", "bytes=999999-", 52000)]
    public async Task UnsatisfiableRange_Is416_NamingTheLength(string path, string range, int length)
    {
        using var response = await SendAsync(path, request => request.Headers.TryAddWithoutValidation("Range", range));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestedRangeNotSatisfiable));
        Assert.That(response.Content.Headers.ContentRange?.ToString(), Is.EqualTo($"bytes */{length}"));
    }

    [Test]
    public async Task SeveralRanges_AreAnsweredWithTheWholeFile()
    {
        using var response = await SendAsync("/plain.txt", request => request.Headers.TryAddWithoutValidation("Range", "bytes=0-1,4-5"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "documented rule: a multi-range request gets 200 and the whole file");
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("0123456789abcdefghij"));
    }

    [Test]
    public async Task IfRange_WithAnOldETag_IgnoresTheRange()
    {
        using var first = await SendAsync("/plain.txt");
        using var current = await SendAsync("/plain.txt", request =>
        {
            request.Headers.TryAddWithoutValidation("Range", "bytes=0-1");
            request.Headers.IfRange = new RangeConditionHeaderValue(first.Headers.ETag!);
        });
        using var old = await SendAsync("/plain.txt", request =>
        {
            request.Headers.TryAddWithoutValidation("Range", "bytes=0-1");
            request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"old\""));
        });
        Assert.That(current.StatusCode, Is.EqualTo(HttpStatusCode.PartialContent));
        Assert.That(old.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await old.Content.ReadAsStringAsync(), Is.EqualTo("0123456789abcdefghij"));
    }

    [TestCase("gzip", "gzip")]
    [TestCase("gzip, deflate, br", "br")]
    [TestCase("br;q=0, gzip;q=0.5", "gzip")]
    [TestCase("*", "br")]
    [TestCase("br", "br")]
    public async Task PrecompressedSibling_IsServedWhenAccepted_WithItsEncodingVaryAndOwnETag(string acceptEncoding, string expected)
    {
        using var identity = await SendAsync("/app.js");
        using var response = await SendAsync("/app.js", request => request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentEncoding, Is.EqualTo(new[] { expected }));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/javascript"), "the type is the file's, not the sibling's");
        Assert.That(response.Headers.Vary, Does.Contain("Accept-Encoding"));
        Assert.That(identity.Headers.Vary, Does.Contain("Accept-Encoding"), "the identity response varies too, for caches");
        Assert.That(response.Headers.ETag, Is.Not.EqualTo(identity.Headers.ETag));
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.That(Decode(body, expected), Is.EqualTo(s_script));
        Assert.That(await identity.Content.ReadAsStringAsync(), Is.EqualTo(s_script));
    }

    [TestCase("identity")]
    [TestCase("gzip;q=0, br;q=0")]
    [TestCase("deflate")]
    public async Task PrecompressedSibling_IsNotServedWhenRefused(string acceptEncoding)
    {
        using var response = await SendAsync("/app.js", request => request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding));
        Assert.That(response.Content.Headers.ContentEncoding, Is.Empty);
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(s_script));
    }

    [Test]
    public async Task LargeFile_IsServedWhole_AndItsGzipSiblingWhenAccepted()
    {
        using var identity = await SendAsync("/large.html");
        using var gzip = await SendAsync("/large.html", request => request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip"));
        Assert.That(await identity.Content.ReadAsStringAsync(), Is.EqualTo(s_large));
        Assert.That(identity.Headers.Vary, Does.Contain("Accept-Encoding"));
        Assert.That(gzip.Content.Headers.ContentEncoding, Is.EqualTo(new[] { "gzip" }));
        Assert.That(Decode(await gzip.Content.ReadAsByteArrayAsync(), "gzip"), Is.EqualTo(s_large));
        Assert.That(_server.Context.Vfs.FileCache!.Bytes, Is.LessThan(s_large.Length), "a file over maxFileBytes is never held in memory");
    }

    [TestCase("/app.js.gz", "application/x-gzip")]
    public async Task Sibling_RequestedByName_IsItself(string path, string type)
    {
        using var response = await SendAsync(path, request => request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo(type));
        Assert.That(response.Content.Headers.ContentEncoding, Is.Empty);
    }

    internal static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    private static byte[] Brotli(string text)
    {
        using var output = new MemoryStream();
        using (var brotli = new BrotliStream(output, CompressionLevel.Optimal))
        {
            brotli.Write(Encoding.UTF8.GetBytes(text));
        }

        return output.ToArray();
    }

    private static string Decode(byte[] body, string encoding)
    {
        using Stream decoder = encoding == "br" ? new BrotliStream(new MemoryStream(body), CompressionMode.Decompress) : new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var reader = new StreamReader(decoder, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private async Task<HttpResponseMessage> SendAsync(string path, Action<HttpRequestMessage>? configure = null, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, _server.HttpUri(Vhost, path));
        configure?.Invoke(request);
        return await _http.SendAsync(request);
    }
}
