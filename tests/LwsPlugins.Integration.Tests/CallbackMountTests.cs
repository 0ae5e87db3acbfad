using System.Net;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// callback:// mounts (lws: LWSMPRO_CALLBACK): HTTP requests under the mount reach the protocol plugin's HTTP handler,
/// loaded from disk, over real loopback HTTP; its faults and stalls are contained.
/// </summary>
[TestFixture]
public sealed class CallbackMountTests
{
    private const int CallbackTimeoutMs = 2000;
    private PluginFolder _plugins = null!;
    private FakeTimeProvider _time = null!;
    private LoopbackServer _server = null!;
    private HttpClient _http = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _plugins = new PluginFolder()
            .CopyFrom(LoopbackServer.TestPluginsPath, "http-callback")
            .CopyFrom(LoopbackServer.TestPluginsPath, "throwing");
        _time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var vhost = LoopbackServer.Vhost("cb", "http-callback-protocol", "throwing-protocol");
        vhost.CallbackTimeoutMs = CallbackTimeoutMs;
        vhost.Mounts = [new MountOptions { MountPoint = "/api", Origin = "callback://http-callback-protocol" }];
        _server = await LoopbackServer.StartAsync(_plugins.Path, _time, vhost);
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _plugins.Dispose();
    }

    [Test]
    public async Task RequestUnderTheMount_ReachesThePluginHandler_WithMethodPathQueryHeadersAndBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.HttpUri("cb", "/api/echo/x?name=a%20b&y=1"))
        {
            Content = new StringContent("the body", Encoding.UTF8),
        };
        request.Headers.Add("X-Test", "header value");

        using var response = await _http.SendAsync(request);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.GetValues("X-Plugin"), Is.EqualTo(new[] { "http-callback" }));
        Assert.That(lines, Is.EqualTo(new[]
        {
            "greeting=hello", "vhost=cb", "method=POST", "mount=/api", "path=/echo/x", "query=?name=a%20b&y=1", "name=a b",
            "header=header value", "remote=127.0.0.1", "body=the body",
        }));
    }

    [Test]
    public async Task MountPointItself_AndTheStatusThePluginSets_AreHandedThrough()
    {
        using var teapot = await _http.GetAsync(_server.HttpUri("cb", "/api?status=418"));
        Assert.That((int)teapot.StatusCode, Is.EqualTo(418));
        Assert.That(await teapot.Content.ReadAsStringAsync(), Does.Contain("path=/\n").And.Contain("method=GET"));

        using var outside = await _http.GetAsync(_server.HttpUri("cb", "/apis/echo"));
        Assert.That(outside.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "a sibling path that only starts with the mount point's text is not under the mount");
    }

    [Test]
    public async Task PluginThatThrows_Gets500_AndTheNextRequestIsServed()
    {
        using var failed = await _http.GetAsync(_server.HttpUri("cb", "/api/throw"));
        Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(await failed.Content.ReadAsStringAsync(), Is.Empty, "no plugin detail leaks to the client");

        var logged = _server.Logs.Entries.Last(e => e.EventId.Id == 306);
        Assert.That(logged.Message, Does.Contain("http-callback").And.Contain("/api/throw"));
        Assert.That(logged.Exception, Is.InstanceOf<InvalidOperationException>());

        using var next = await _http.GetAsync(_server.HttpUri("cb", "/api/fine"));
        Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task PluginThatThrowsAfterStartingTheResponse_AbortsIt()
    {
        Assert.That(
            async () =>
            {
                using var response = await _http.GetAsync(_server.HttpUri("cb", "/api/throw-after-start"));
                await response.Content.ReadAsStringAsync();
            },
            Throws.InstanceOf<HttpRequestException>().Or.InstanceOf<IOException>());

        using var next = await _http.GetAsync(_server.HttpUri("cb", "/api/fine"));
        Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task PluginThatBlocksItsThread_Gets504AfterTheCallbackTimeout_AndIsCountedInStatus()
    {
        var before = TimeoutsInStatus();
        var pending = _http.GetAsync(_server.HttpUri("cb", "/api/block"));

        // The timeout runs on the vhost's (fake) clock: move it on until the host answers.
        await Eventually.WaitUntilAsync(() => { _time.Advance(TimeSpan.FromMilliseconds(CallbackTimeoutMs / 2)); return pending.IsCompleted; });
        using var response = await pending;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.GatewayTimeout));
        Assert.That(TimeoutsInStatus(), Is.EqualTo(before + 1));
        Assert.That(_server.Logs.Entries.Last(e => e.EventId.Id == 307).Message, Does.Contain("http-callback").And.Contain("/api/block").And.Contain($"{CallbackTimeoutMs} ms"));
        using var next = await _http.GetAsync(_server.HttpUri("cb", "/api/fine"));
        Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public void MountOfAProtocolWhoseHandlerDoesNotHandleHttp_IsAConfigurationError()
    {
        var vhost = LoopbackServer.Vhost("no-http", "throwing-protocol");
        vhost.Mounts = [new MountOptions { MountPoint = "/x", Origin = "callback://throwing-protocol" }];

        var error = Assert.ThrowsAsync<LwsConfigurationException>(async () => await _server.Context.CreateVhostAsync(vhost, CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("vhost 'no-http'").And.Contain("mounts[0].origin").And.Contain("IHttpRequestHandler").And.Contain("throwing"));
        Assert.That(_server.Context.VhostNames, Does.Not.Contain("no-http"));
    }

    [Test]
    public void MountOfAProtocolTheVhostDoesNotList_IsAConfigurationError()
    {
        var vhost = LoopbackServer.Vhost("unlisted", "throwing-protocol");
        vhost.Mounts = [new MountOptions { MountPoint = "/x", Origin = "callback://http-callback-protocol" }];

        var error = Assert.ThrowsAsync<LwsConfigurationException>(async () => await _server.Context.CreateVhostAsync(vhost, CancellationToken.None));

        Assert.That(error!.Message, Does.Contain("vhost 'unlisted'").And.Contain("mounts[0].origin").And.Contain("does not list"));
    }

    private long TimeoutsInStatus()
        => _server.Context.Status.GetSnapshot().Vhosts.Single(v => v.Name == "cb").Protocols.Single(p => p.Name == "http-callback-protocol").CallbackTimeouts;
}
