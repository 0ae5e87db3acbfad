using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text.Json;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>HTTP/2 on TLS vhosts: ALPN h2 per vhost, static files over h2, and WebSockets over extended CONNECT (RFC 8441).</summary>
[TestFixture]
public sealed class Http2Tests
{
    [Test]
    public async Task NodeHttp2Client_RunsDumbIncrementMirrorAndStatusSessionsOnOneConnection_AsOverHttp11()
    {
        await using var server = await ServerProcess.StartAsync("-p", "0", "-s");
        var script = Path.Combine(AppContext.BaseDirectory, "node", "h2-websocket.mjs");

        var output = await Command.RunCheckedAsync(TimeSpan.FromSeconds(60), "node", script, $"https://{server.EndPoint}");

        using var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var root = result.RootElement;
        Assert.That(root.GetProperty("alpn").GetString(), Is.EqualTo("h2"));
        Assert.That(root.GetProperty("counterProtocol").GetString(), Is.EqualTo("dumb-increment-protocol"));
        Assert.That(root.GetProperty("counter").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "0", "1", "2" }));
        Assert.That(root.GetProperty("afterReset").GetString(), Is.EqualTo("0"));
        Assert.That(root.GetProperty("mirror").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "c #ff0000 10 20 5;", "c #ff0000 10 20 5;" }));
        Assert.That(root.GetProperty("wssOverH2").GetString(), Is.EqualTo("1"));
        Assert.That(root.GetProperty("close").GetProperty("code").GetInt32(), Is.EqualTo(1001));
        Assert.That(root.GetProperty("close").GetProperty("reason").GetString(), Is.EqualTo("seeya"));
        Assert.That(root.GetProperty("oversizedClose").GetInt32(), Is.EqualTo(1009), "the frame guard sits on HTTP/2 streams too");
    }

    [Test]
    public async Task DemoPage_IsServedOverHttp2()
    {
        await using var server = await ServerProcess.StartAsync("-p", "0", "-s");
        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null } })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = WsClient.DefaultTimeout,
        };

        using var page = await http.GetAsync($"https://{server.EndPoint}/");

        Assert.That(page.Version, Is.EqualTo(HttpVersion.Version20));
        Assert.That(await page.Content.ReadAsStringAsync(), Does.Contain("LwsPlugins demo"));
    }

    [Test]
    public async Task Alpn_OffersH2PerVhost_AndOnlyHttp11WhereHttp2IsFalse()
    {
        using var certificates = new TestCertificates();
        var vhosts = new[] { ("h2.test", true), ("h1.test", false) }.Select(v =>
        {
            var (certificate, key) = certificates.WritePem(certificates.ServerCertificate(v.Item1), v.Item1);
            var options = LoopbackServer.Vhost(v.Item1, "dumb-increment-protocol");
            options.Port = 0;
            options.Tls = new VhostTlsOptions { Certificate = certificate, Key = key };
            options.Http2 = v.Item2;
            return options;
        }).ToArray();
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath, vhosts);

        Assert.That(await NegotiatedAsync(server.EndPoint("h2.test"), "h2.test"), Is.EqualTo(SslApplicationProtocol.Http2));
        Assert.That(await NegotiatedAsync(server.EndPoint("h1.test"), "h1.test"), Is.EqualTo(SslApplicationProtocol.Http11));
    }

    private static async Task<SslApplicationProtocol> NegotiatedAsync(IPEndPoint endPoint, string serverName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endPoint);
        await using var ssl = new SslStream(tcp.GetStream());
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        await ssl.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
            },
            timeout.Token);
        return ssl.NegotiatedApplicationProtocol;
    }
}
