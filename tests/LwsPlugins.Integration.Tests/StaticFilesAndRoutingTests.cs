using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class StaticFilesAndRoutingTests
{
    private string _root = null!;
    private LoopbackServer _server = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _root = Path.Combine(Path.GetTempPath(), "lws-www-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(_root, "first"));
        Directory.CreateDirectory(Path.Combine(_root, "second"));
        await File.WriteAllTextAsync(Path.Combine(_root, "first", "index.html"), "<p>first</p>");
        await File.WriteAllTextAsync(Path.Combine(_root, "second", "test.html"), "<p>second</p>");

        var first = LoopbackServer.Vhost("first.test", "dumb-increment-protocol");
        first.Mounts = [new MountOptions { MountPoint = "/", Origin = Path.Combine(_root, "first") }];
        _server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath, first);

        var second = LoopbackServer.Vhost("second.test", "lws-mirror-protocol");
        second.Port = _server.EndPoint("first.test").Port;
        second.Mounts = [new MountOptions { MountPoint = "/", Origin = Path.Combine(_root, "second") }];
        await _server.Context.CreateVhostAsync(second, CancellationToken.None);
        _http = new HttpClient { Timeout = WsClient.DefaultTimeout };
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public void VhostsNamingTheSameEndpoint_ShareOneListener()
        => Assert.That(_server.EndPoint("second.test"), Is.EqualTo(_server.EndPoint("first.test")));

    [TestCase("first.test", "<p>first</p>")]
    [TestCase("second.test", "<p>second</p>")]
    [TestCase("127.0.0.1", "<p>first</p>")]
    [TestCase("unknown.example", "<p>first</p>")]
    public async Task Request_IsServedByTheVhostItsHostHeaderNames_ElseByTheEndpointsFirst(string host, string expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.HttpUri("first.test", "/"));
        request.Headers.Host = host;

        using var response = await _http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(expected));
    }

    [Test]
    public async Task MissingFile_Is404()
    {
        using var response = await _http.GetAsync(_server.HttpUri("first.test", "/missing.html"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task WebSocket_IsRoutedByHostHeaderToo()
    {
        // The endpoint's first vhost does not serve the mirror; the vhost named by Host does.
        await using var mirror = await WsClient.ConnectAsync(
            _server.WebSocketUri("first.test", "/?mirror=routing"),
            o => o.SetRequestHeader("Host", "second.test"),
            "lws-mirror-protocol");
        await mirror.SendTextAsync("routed");

        Assert.That(await mirror.ReceiveTextAsync(), Is.EqualTo("routed"));
    }
}
