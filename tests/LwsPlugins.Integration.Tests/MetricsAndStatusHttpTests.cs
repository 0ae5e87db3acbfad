using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// <c>GET /metrics</c> (Prometheus text) and <c>GET /status</c> (JSON) over real HTTP: on the admin port behind its
/// token, and on a vhost that sets <c>metricsPath</c>/<c>statusPath</c>, behind its address allow-list.
/// </summary>
[TestFixture]
public sealed partial class MetricsAndStatusHttpTests
{
    private const string Token = "metrics-token-0123456789abcdef";
    private const string Protocol = "lws-mirror-protocol";
    private PluginFolder _plugins = null!;
    private LoopbackServer _server = null!;
    private HttpClient _http = null!;
    private string _vhost = null!;

    [SetUp]
    public async Task Start()
    {
        // Other tests' contexts in this process feed the same meter name: a vhost name of our own tells our series apart.
        _vhost = "prom-" + Guid.NewGuid().ToString("N")[..8];
        _plugins = new PluginFolder().CopyFrom(LoopbackServer.BundledPluginsPath, "mirror");
        var observed = LoopbackServer.Vhost(_vhost, Protocol);
        observed.MetricsPath = "/metrics";
        observed.StatusPath = "/server/status";
        var fenced = LoopbackServer.Vhost(_vhost + "-fenced", Protocol);
        fenced.MetricsPath = "/metrics";
        fenced.StatusPath = "/status";
        fenced.ObservabilityAllowFrom = ["10.0.0.0/8", "192.0.2.7"];
        _server = await LoopbackServer.StartAsync(
            new LwsServerOptions
            {
                PluginsPath = _plugins.Path,
                WatchPlugins = false,
                DestroyDelayMs = 0,
                Admin = new AdminApiOptions { Enabled = true, Port = 0, Token = Token },
                Vhosts = [observed, fenced, LoopbackServer.Vhost(_vhost + "-plain", Protocol)],
            },
            TimeProvider.System);
        _http = new HttpClient { Timeout = WsClient.DefaultTimeout };
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        _plugins.Dispose();
    }

    [Test]
    public async Task AdminMetrics_WithToken_HaveTheLwsSeries_WithTheirValues()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri(_vhost, "/?mirror=m"), Protocol);
        await client.SendTextAsync("one");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("one"));
        var manifest = Path.Combine(_plugins.Path, "mirror", "mirror.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("1.0.0\"", "1.0.1\"", StringComparison.Ordinal));
        await _server.Context.ReloadPluginAsync(Path.Combine(_plugins.Path, "mirror"));

        using var response = await _http.SendAsync(Admin("metrics", "Bearer " + Token));
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
        var ours = Samples(text).Where(s => s.Labels.GetValueOrDefault("vhost") == _vhost).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ours.Single(s => s.Name == "lws_sessions_active").Value, Is.EqualTo(1));
            Assert.That(ours.Where(s => s.Name == "lws_handshakes_total").Sum(s => s.Value), Is.EqualTo(1));
            Assert.That(ours.Single(s => s.Name == "lws_messages_received_total").Value, Is.EqualTo(1));
            Assert.That(ours.Single(s => s.Name == "lws_messages_sent_total").Value, Is.GreaterThanOrEqualTo(1));
            Assert.That(ours.Single(s => s.Name == "lws_bytes_received_bytes_total").Value, Is.EqualTo(3));
            Assert.That(Samples(text).Any(s => s.Name == "lws_plugin_reloads_total" && s.Labels.GetValueOrDefault("plugin") == "mirror" && s.Labels.GetValueOrDefault("result") == "loaded"), Is.True, text);
            Assert.That(Samples(text).Any(s => s.Name == "lws_backplane_connected"), Is.True, text);
            Assert.That(Samples(text).Any(s => s.Name == "lws_backplane_published_total"), Is.True, text);
            Assert.That(text, Does.Contain("# TYPE lws_sessions_active gauge"));
        });
    }

    [TestCase("metrics")]
    [TestCase("status")]
    public async Task AdminMetricsAndStatus_WithoutTheToken_Get401(string path)
    {
        using var none = await _http.SendAsync(Admin(path, null));
        using var wrong = await _http.SendAsync(Admin(path, "Bearer not-the-token"));

        Assert.That(none.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await none.Content.ReadAsStringAsync(), Is.Empty);
    }

    [Test]
    public async Task AdminStatus_IsTheServerStatusDocument()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri(_vhost, "/?mirror=s"), Protocol);
        await Eventually.WaitUntilAsync(() => _server.Context.Status.GetSnapshot().Vhosts.Single(v => v.Name == _vhost).Sessions == 1);

        using var response = await _http.SendAsync(Admin("status", "Bearer " + Token));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        var root = document.RootElement;
        Assert.That(root.GetProperty("version").GetString(), Is.Not.Empty);
        Assert.That(root.GetProperty("uptimeSeconds").GetInt64(), Is.GreaterThanOrEqualTo(0));
        var vhost = root.GetProperty("vhosts").EnumerateArray().Single(v => v.GetProperty("name").GetString() == _vhost);
        Assert.That(vhost.GetProperty("sessions").GetInt32(), Is.EqualTo(1));
        Assert.That(root.GetProperty("plugins").EnumerateArray().Select(p => p.GetProperty("id").GetString()), Does.Contain("mirror"));
    }

    [Test]
    public async Task VhostMetricsAndStatusPaths_AnswerAnAllowedClient()
    {
        using var metrics = await _http.GetAsync(_server.HttpUri(_vhost, "/metrics"));
        using var status = await _http.GetAsync(_server.HttpUri(_vhost, "/server/status"));

        Assert.That(metrics.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await metrics.Content.ReadAsStringAsync(), Does.Contain("# TYPE lws_vhosts_created_total counter"));
        Assert.That(status.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var document = JsonDocument.Parse(await status.Content.ReadAsStringAsync());
        Assert.That(document.RootElement.GetProperty("vhosts").EnumerateArray().Select(v => v.GetProperty("name").GetString()), Does.Contain(_vhost));
    }

    [TestCase("/metrics")]
    [TestCase("/status")]
    public async Task VhostPaths_RefuseAClientOutsideTheAllowList_With403(string path)
    {
        using var response = await _http.GetAsync(_server.HttpUri(_vhost + "-fenced", path));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [TestCase("/metrics")]
    [TestCase("/status")]
    public async Task VhostWithoutThePaths_ServesNoMetricsOrStatus(string path)
    {
        using var response = await _http.GetAsync(_server.HttpUri(_vhost + "-plain", path));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    private HttpRequestMessage Admin(string path, string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{_server.Context.AdminEndPoint}/{path}"));
        if (authorization is not null)
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        return request;
    }

    private static IEnumerable<(string Name, Dictionary<string, string> Labels, double Value)> Samples(string text)
    {
        foreach (Match m in SampleLine().Matches(text))
        {
            var labels = LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["k"].Value, l => l.Groups["v"].Value);
            yield return (m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
        }
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
