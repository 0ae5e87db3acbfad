using System.Net;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed partial class HealthAndAccessLogTests
{
    private string _folder = null!;
    private LoopbackServer _server = null!;
    private HttpClient _http = null!;

    [SetUp]
    public async Task Start()
    {
        _folder = Directory.CreateTempSubdirectory("lws-observability-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_folder, "index.html"), "<p>hello</p>");
        var vhost = LoopbackServer.Vhost("observed", "lws-mirror-protocol");
        vhost.HealthPath = "/health";
        vhost.AccessLog = Path.Combine(_folder, "logs", "access.log");
        vhost.Mounts = [new MountOptions { MountPoint = "/", Origin = _folder }];
        _server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, DestroyDelayMs = 0, WatchPlugins = false, Vhosts = [vhost] }, TimeProvider.System);
        _http = new HttpClient { Timeout = WsClient.DefaultTimeout };
    }

    [TearDown]
    public async Task Stop()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public async Task Health_LiveAnswers_ReadyFollowsTheProtocolsVhostsDependOn()
    {
        Assert.That((await _http.GetAsync(_server.HttpUri("observed", "/health/live"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using (var ready = await _http.GetAsync(_server.HttpUri("observed", "/health/ready")))
        {
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await ready.Content.ReadAsStringAsync(), Is.EqualTo("Healthy"));
        }

        await _server.Context.CreateVhostAsync(LoopbackServer.Vhost("broken", "no-such-plugin-protocol"), CancellationToken.None);
        using (var notReady = await _http.GetAsync(_server.HttpUri("observed", "/health/ready")))
        {
            Assert.That(notReady.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(await notReady.Content.ReadAsStringAsync(), Is.EqualTo("Unhealthy"));
        }

        Assert.That((await _http.GetAsync(_server.HttpUri("observed", "/health/live"))).StatusCode, Is.EqualTo(HttpStatusCode.OK), "live does not depend on plugins");
        await _server.Context.DestroyVhostAsync("broken", CancellationToken.None);
        Assert.That((await _http.GetAsync(_server.HttpUri("observed", "/health/ready"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AccessLog_HasACombinedLineForARequest_AndOneForAWebSocketAtClose()
    {
        using (var request = new HttpRequestMessage(HttpMethod.Get, _server.HttpUri("observed", "/index.html?x=1")))
        {
            request.Headers.UserAgent.ParseAdd("probe/1.0");
            request.Headers.Referrer = new Uri("http://example.test/from");
            using var response = await _http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        await using (var client = await WsClient.ConnectAsync(_server.WebSocketUri("observed", "/?mirror=log"), o => o.SetRequestHeader("User-Agent", "ws-probe/2.0"), "lws-mirror-protocol"))
        {
            await client.SendTextAsync("12345");
            await client.ReceiveTextAsync();
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null);
        }

        var lines = await WaitForLinesAsync(Path.Combine(_folder, "logs", "access.log"), 2);

        Assert.That(lines[0], Does.Match(CombinedLine()));
        Assert.That(lines[0], Does.StartWith("127.0.0.1 - - [").And.Contain("\"GET /index.html?x=1 HTTP/1.1\" 200 12 \"http://example.test/from\" \"probe/1.0\""));
        Assert.That(lines[1], Does.Match(CombinedLine()));
        Assert.That(lines[1], Does.Contain("\"GET /?mirror=log HTTP/1.1\" 101 5 \"-\" \"ws-probe/2.0\" ws=\"lws-mirror-protocol\" duration_ms=").And.EndWith("bytes_in=5 bytes_out=5"));
    }

    [Test]
    public async Task AccessLog_RecordsTheTargetAsSent_AndEverySizeIncludingZero()
    {
        // HttpClient would normalise these targets; a raw socket sends them as an attacker would.
        foreach (var target in new[] { "/a%3ab.html", "/../etc/passwd", "/health/live" })
        {
            using var socket = await RawWebSocket.ConnectAsync(_server.EndPoint("observed"));
            await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: observed\r\nConnection: close\r\n\r\n"));
            await socket.ReadToEndAsync();
        }

        using (var head = new HttpRequestMessage(HttpMethod.Head, _server.HttpUri("observed", "/index.html")))
        {
            using var response = await _http.SendAsync(head);
            Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(12), "HEAD announces the length it does not send");
        }

        var lines = await WaitForLinesAsync(Path.Combine(_folder, "logs", "access.log"), 4);

        Assert.That(lines, Has.All.Match(CombinedLine()));
        Assert.That(lines[0], Does.Contain("\"GET /a%3ab.html HTTP/1.1\" 400 0 "));
        Assert.That(lines[1], Does.Contain("\"GET /../etc/passwd HTTP/1.1\" "));
        Assert.That(lines[2], Does.Contain("\"GET /health/live HTTP/1.1\" 200 7 "), "the 7 bytes of 'Healthy'");
        Assert.That(lines[3], Does.Contain("\"HEAD /index.html HTTP/1.1\" 200 0 "), "no body was sent");
    }

    private static async Task<string[]> WaitForLinesAsync(string path, int count)
    {
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        while (true)
        {
            if (File.Exists(path))
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(stream);
                var lines = (await reader.ReadToEndAsync(timeout.Token)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (lines.Length >= count)
                {
                    return lines;
                }
            }

            await Task.Delay(20, timeout.Token);
        }
    }

    [GeneratedRegex("""^\S+ - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "[A-Z]+ \S+ HTTP/\d(\.\d)?" \d{3} \d+ "[^"]*" "[^"]*"( .*)?$""")]
    private static partial Regex CombinedLine();
}
