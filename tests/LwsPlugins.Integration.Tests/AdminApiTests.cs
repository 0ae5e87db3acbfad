using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class AdminApiTests
{
    private const string Token = "test-token-0123456789abcdef";
    private LoopbackServer _server = null!;
    private HttpClient _http = null!;

    [SetUp]
    public async Task Start()
    {
        _server = await LoopbackServer.StartAsync(
            new LwsServerOptions
            {
                PluginsPath = LoopbackServer.BundledPluginsPath,
                DestroyDelayMs = 0,
                Admin = new AdminApiOptions { Enabled = true, Port = 0, Token = Token },
                Vhosts = [LoopbackServer.Vhost("existing", "dumb-increment-protocol")],
            },
            TimeProvider.System);
        _http = new HttpClient { BaseAddress = new Uri($"http://{_server.Context.AdminEndPoint}/"), Timeout = WsClient.DefaultTimeout };
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [TestCase(null)]
    [TestCase("Bearer wrong-token-0123456789")]
    [TestCase("Basic " + Token)]
    [TestCase("Bearer" + Token)]
    [TestCase("Bearer " + Token + "x")]
    public async Task MissingOrWrongToken_Gets401_AndChangesNothing(string? authorization)
    {
        using var list = Request(HttpMethod.Get, "vhosts", null, authorization);
        using var create = Request(HttpMethod.Post, "vhosts", NewVhost("intruder"), authorization);
        using var delete = Request(HttpMethod.Delete, "vhosts/existing", null, authorization);

        foreach (var request in new[] { list, create, delete })
        {
            using var response = await _http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), request.Method.ToString());
            Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
        }

        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "existing" }));
    }

    [TestCase("bearer")]
    [TestCase("BEARER")]
    [TestCase("Bearer")]
    public async Task SchemeInAnyCase_IsAccepted(string scheme)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "vhosts");
        request.Headers.TryAddWithoutValidation("Authorization", scheme + " " + Token);
        using var response = await _http.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Create_List_Destroy()
    {
        using (var created = await _http.SendAsync(Request(HttpMethod.Post, "vhosts", NewVhost("fresh"), "Bearer " + Token)))
        {
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        }

        await using (var client = await WsClient.ConnectAsync(_server.WebSocketUri("fresh"), "dumb-increment-protocol"))
        {
            Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("0"));
        }

        using (var listed = await _http.SendAsync(Request(HttpMethod.Get, "vhosts", null, "Bearer " + Token)))
        {
            using var document = JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
            var states = document.RootElement.EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!, v => v.GetProperty("state").GetString());
            Assert.That(states, Is.EquivalentTo(new Dictionary<string, string?> { ["existing"] = "serving", ["fresh"] = "serving" }));
        }

        using (var plugins = await _http.SendAsync(Request(HttpMethod.Get, "plugins", null, "Bearer " + Token)))
        {
            using var document = JsonDocument.Parse(await plugins.Content.ReadAsStringAsync());
            var mirror = document.RootElement.EnumerateArray().Single(p => p.GetProperty("id").GetString() == "mirror");
            Assert.That(mirror.GetProperty("generations")[0].GetProperty("state").GetString(), Is.EqualTo("active"));
        }

        using (var deleted = await _http.SendAsync(Request(HttpMethod.Delete, "vhosts/fresh", null, "Bearer " + Token)))
        {
            Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "existing" }));
        using var missing = await _http.SendAsync(Request(HttpMethod.Delete, "vhosts/fresh", null, "Bearer " + Token));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task InvalidVhost_Gets400NamingVhostAndKey_AndIsNotCreated()
    {
        using var response = await _http.SendAsync(Request(
            HttpMethod.Post, "vhosts", """{ "name": "bad", "port": -5, "protocols": [ "dumb-increment-protocol" ] }""", "Bearer " + Token));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("vhost 'bad'").And.Contain("port"));
        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "existing" }));
        Assert.That(_server.Logs.Entries.Where(e => e.EventId.Id == 504).Select(e => e.Message), Has.One.StartsWith("Admin API: POST /vhosts refused: ").And.Contains("vhost 'bad': port"));
    }

    [Test]
    public async Task AVhostWhosePortIsTaken_Gets400_AndTheFailedListenIsLoggedWithItsReason()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        using var response = await _http.SendAsync(Request(
            HttpMethod.Post, "vhosts", $$"""{ "name": "late", "port": {{port}}, "protocols": [ "dumb-increment-protocol" ] }""", "Bearer " + Token));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain($"vhost 'late': port: cannot listen on 127.0.0.1:{port}"));
        Assert.That(
            _server.Logs.Entries.Where(e => e.EventId.Id == 210).Select(e => e.Message),
            Has.One.StartsWith($"Vhost late was not created: vhost 'late': port: cannot listen on 127.0.0.1:{port}"));
        Assert.That(_server.Context.VhostNames, Is.EqualTo(new[] { "existing" }));
    }

    [Test]
    public void NonLoopbackAddress_IsRefusedAtConfiguration()
    {
        var errors = AdminApiOptionsValidator.Validate(new AdminApiOptions { Enabled = true, Address = "0.0.0.0", Token = Token });

        Assert.That(errors, Has.One.Contains("admin.address"));
    }

    [Test]
    public async Task CreateDestroyCycles_WithNoPause_AllSucceed_WhileTheDestroyDelayHoldsTheirListeners()
    {
        // Each destroyed vhost keeps its listener for destroyDelayMs; a listener must cost no per-user resource that
        // runs out first (a host per listener ran out of inotify instances, 128 per user, at cycle 123).
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions
            {
                PluginsPath = LoopbackServer.BundledPluginsPath,
                DestroyDelayMs = 60_000,
                Admin = new AdminApiOptions { Enabled = true, Port = 0, Token = Token },
                Vhosts = [],
            },
            TimeProvider.System);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{server.Context.AdminEndPoint}/"), Timeout = WsClient.DefaultTimeout };
        const int Cycles = 300;
        for (var i = 0; i < Cycles; i++)
        {
            using (var created = await http.SendAsync(Request(HttpMethod.Post, "vhosts", NewVhost($"cycle{i}"), "Bearer " + Token)))
            {
                Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), $"cycle {i}: {await created.Content.ReadAsStringAsync()}");
            }

            using var deleted = await http.SendAsync(Request(HttpMethod.Delete, $"vhosts/cycle{i}", null, "Bearer " + Token));
            Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent), $"cycle {i}");
        }

        Assert.That(server.Context.GetDiagnostics().Listeners, Is.EqualTo(Cycles), "every destroyed vhost's listener is still held");
    }

    [Test]
    public async Task Put_CreatesThenChangesAVhostInPlace_KeepingItsSession_AndRefusesAVhostItDidNotMake()
    {
        static string Definition(int intervalMs)
            => $$"""{ "name": "live", "address": "127.0.0.1", "port": 0, "protocols": { "dumb-increment-protocol": { "intervalMs": {{intervalMs}} } } }""";
        using (var created = await _http.SendAsync(Request(HttpMethod.Put, "vhosts/live", Definition(200), "Bearer " + Token)))
        {
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.OK), await created.Content.ReadAsStringAsync());
            Assert.That(await created.Content.ReadAsStringAsync(), Does.Contain("\"action\":\"created\""));
        }

        var endPoint = _server.EndPoint("live");
        await using var session = await WsClient.ConnectAsync(_server.WebSocketUri("live"), "dumb-increment-protocol");
        Assert.That(await session.ReceiveTextAsync(), Is.EqualTo("0"));

        using (var changed = await _http.SendAsync(Request(HttpMethod.Put, "vhosts/live", Definition(10), "Bearer " + Token)))
        {
            Assert.That(changed.StatusCode, Is.EqualTo(HttpStatusCode.OK), await changed.Content.ReadAsStringAsync());
            Assert.That(await changed.Content.ReadAsStringAsync(), Does.Contain("\"action\":\"updated\""));
        }

        var next = int.Parse(await session.ReceiveTextAsync(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(int.Parse(await session.ReceiveTextAsync(), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(next + 1), "the same session counts on");
        Assert.That(_server.EndPoint("live"), Is.EqualTo(endPoint));

        // "existing" came from the server's own start-up list (the engine's API): the admin API may not change it.
        using var refused = await _http.SendAsync(Request(HttpMethod.Put, "vhosts/existing", NewVhost("existing"), "Bearer " + Token));
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.That(error.RootElement.GetProperty("error").GetString(), Does.Contain("vhost 'existing': name: a vhost of that name exists already (the engine's API)"));
        using var mismatch = await _http.SendAsync(Request(HttpMethod.Put, "vhosts/other", Definition(10), "Bearer " + Token));
        Assert.That(mismatch.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "the body names another vhost than the path");
    }

    private static string NewVhost(string name)
        => $$"""{ "name": "{{name}}", "address": "127.0.0.1", "port": 0, "protocols": [ "dumb-increment-protocol" ] }""";

    private static HttpRequestMessage Request(HttpMethod method, string path, string? body, string? authorization)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (authorization is not null)
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        return request;
    }
}
