using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>TLS per vhost through Kestrel: certificates chosen by SNI from the live routing table, wss://, 421, redirects.</summary>
[TestFixture]
public sealed class TlsTests
{
    private static readonly string[] Protocols = ["dumb-increment-protocol", "lws-mirror-protocol", "lws-status", "lws-server-status"];
    private TestCertificates _certificates = null!;
    private X509Certificate2 _alpha = null!;
    private X509Certificate2 _beta = null!;

    [OneTimeSetUp]
    public void MakeCertificates()
    {
        _certificates = new TestCertificates();
        _alpha = _certificates.ServerCertificate("alpha.test");
        _beta = _certificates.ServerCertificate("beta.test");
    }

    [OneTimeTearDown]
    public void RemoveCertificates()
    {
        _alpha.Dispose();
        _beta.Dispose();
        _certificates.Dispose();
    }

    [Test]
    public async Task TwoTlsVhostsOnOnePort_EachPresentsItsOwnCertificateBySni()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var endPoint = await CreateAsync(server, "alpha.test", 0, _alpha);
        Assert.That(await CreateAsync(server, "beta.test", endPoint.Port, _beta), Is.EqualTo(endPoint), "the second TLS vhost shares the listener");

        Assert.That(await PresentedAsync(endPoint, "alpha.test"), Is.EqualTo(_alpha.Thumbprint));
        Assert.That(await PresentedAsync(endPoint, "beta.test"), Is.EqualTo(_beta.Thumbprint));
        Assert.That(await PresentedAsync(endPoint, "BETA.test"), Is.EqualTo(_beta.Thumbprint), "SNI names are matched case-insensitively");
        Assert.That(await PresentedAsync(endPoint, null), Is.EqualTo(_alpha.Thumbprint), "no SNI: the endpoint's first vhost");
        Assert.That(await PresentedAsync(endPoint, "unknown.test"), Is.EqualTo(_alpha.Thumbprint), "an SNI no vhost has: the endpoint's first vhost");
    }

    [Test]
    public async Task DestroyingOneTlsVhost_RemovesItsCertificate_WhileTheOtherKeepsServing()
    {
        await using var server = await LoopbackServer.StartAsync(new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, DestroyDelayMs = 0 }, TimeProvider.System);
        var endPoint = await CreateAsync(server, "alpha.test", 0, _alpha);
        await CreateAsync(server, "beta.test", endPoint.Port, _beta);
        await using var betaCounter = await WsClient.ConnectTlsAsync(new Uri($"wss://beta.test:{endPoint.Port}/"), endPoint, _beta, "dumb-increment-protocol");
        Assert.That(await betaCounter.ReceiveTextAsync(), Is.EqualTo("0"));

        Assert.That(await server.Context.DestroyVhostAsync("alpha.test", CancellationToken.None), Is.True);

        // The owner went; its listener was handed to beta and keeps its port, and alpha's certificate is gone from it.
        Assert.That(await PresentedAsync(endPoint, "alpha.test"), Is.EqualTo(_beta.Thumbprint));
        Assert.That(await PresentedAsync(endPoint, "beta.test"), Is.EqualTo(_beta.Thumbprint));
        Assert.That(await betaCounter.ReceiveTextAsync(), Is.EqualTo("1"), "beta's session was not disturbed");
        await using var another = await WsClient.ConnectTlsAsync(new Uri($"wss://beta.test:{endPoint.Port}/"), endPoint, _beta, "dumb-increment-protocol");
        Assert.That(await another.ReceiveTextAsync(), Is.EqualTo("0"));

        // Re-created, alpha brings its certificate back on the same port, without a restart.
        await CreateAsync(server, "alpha.test", endPoint.Port, _alpha);
        Assert.That(await PresentedAsync(endPoint, "alpha.test"), Is.EqualTo(_alpha.Thumbprint));
    }

    [Test]
    public async Task Wss_WorksForEveryBundledProtocol()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var endPoint = await CreateAsync(server, "alpha.test", 0, _alpha);
        await CreateAsync(server, "beta.test", endPoint.Port, _beta);
        var alpha = new Uri($"wss://alpha.test:{endPoint.Port}/");

        await using var counter = await WsClient.ConnectTlsAsync(alpha, endPoint, _alpha, "dumb-increment-protocol");
        Assert.That(counter.SubProtocol, Is.EqualTo("dumb-increment-protocol"));
        Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));
        Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("1"));

        await using var mirror = await WsClient.ConnectTlsAsync(new Uri($"wss://beta.test:{endPoint.Port}/?mirror=tls"), endPoint, _beta, "lws-mirror-protocol");
        await mirror.SendTextAsync("c #123456 10 20 5;");
        Assert.That(await mirror.ReceiveTextAsync(), Is.EqualTo("c #123456 10 20 5;"));

        await using var status = await WsClient.ConnectTlsAsync(alpha, endPoint, _alpha, "lws-server-status");
        using (var document = JsonDocument.Parse(await status.ReceiveTextAsync()))
        {
            var vhosts = document.RootElement.GetProperty("vhosts").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToList();
            Assert.That(vhosts, Is.EquivalentTo(new[] { "alpha.test", "beta.test" }));
        }

        await using var lwsStatus = await WsClient.ConnectTlsAsync(alpha, endPoint, _alpha, "lws-status");
        using (var document = JsonDocument.Parse(await lwsStatus.ReceiveTextAsync()))
        {
            Assert.That(document.RootElement.GetProperty("conns").GetArrayLength(), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task HostHeaderThatDisagreesWithSni_Gets421()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var endPoint = await CreateAsync(server, "alpha.test", 0, _alpha);
        await CreateAsync(server, "beta.test", endPoint.Port, _beta);

        await using (var misdirected = await TlsProbe.ConnectAsync(endPoint, "alpha.test"))
        {
            var (status, response) = await misdirected.GetAsync("beta.test");
            Assert.That(status, Is.EqualTo(421));
            Assert.That(response, Does.Contain("'beta.test'").And.Contain("'alpha.test'"));
        }

        await using (var matching = await TlsProbe.ConnectAsync(endPoint, "beta.test"))
        {
            var (status, _) = await matching.GetAsync($"beta.test:{endPoint.Port}");
            Assert.That(status, Is.EqualTo(404), "same name (the port does not matter): routed to beta, which has no mounts");
        }

        // A wss:// handshake is refused the same way, before any upgrade.
        await using var probe = await TlsProbe.ConnectAsync(endPoint, "beta.test");
        var (upgradeStatus, _) = await probe.GetAsync("alpha.test", "/?mirror=x");
        Assert.That(upgradeStatus, Is.EqualTo(421));
    }

    [Test]
    public async Task HostHeaderThatNamesNoVhost_GoesToTheVhostOfTheConnection()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var (certificate, key) = _certificates.WritePem(_alpha, "alpha-health");
        var alpha = Vhost("alpha.test", 0, certificate, key);
        alpha.HealthPath = "/health";
        var endPoint = await server.Context.CreateVhostAsync(alpha, CancellationToken.None);
        await CreateAsync(server, "beta.test", endPoint.Port, _beta);

        // Only alpha answers /health/live; a Host that is an address names neither vhost.
        await using (var toAlpha = await TlsProbe.ConnectAsync(endPoint, "alpha.test"))
        {
            Assert.That((await toAlpha.GetAsync($"127.0.0.1:{endPoint.Port}", "/health/live")).Status, Is.EqualTo(200));
        }

        await using var toBeta = await TlsProbe.ConnectAsync(endPoint, "beta.test");
        Assert.That((await toBeta.GetAsync($"127.0.0.1:{endPoint.Port}", "/health/live")).Status, Is.EqualTo(404), "beta's, not 421 and not alpha's");
    }

    [Test]
    public async Task RedirectHttpPort_RedirectsOnlyTheVhostThatAsked()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var (certificate, key) = _certificates.WritePem(_alpha, "redirect-shared");
        var options = Vhost("alpha.test", 0, certificate, key);
        options.Tls!.RedirectHttpPort = 0;
        await server.Context.CreateVhostAsync(options, CancellationToken.None);
        var redirect = server.Context.FindVhost("alpha.test")!.Tls!.RedirectEndPoint!;

        // A plain vhost on the redirect's port, attached after alpha: requests that do not name alpha are its own.
        var plain = LoopbackServer.Vhost("plain.test", "dumb-increment-protocol");
        plain.Port = redirect.Port;
        plain.HealthPath = "/health";
        await server.Context.CreateVhostAsync(plain, CancellationToken.None);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = WsClient.DefaultTimeout };

        using (var byAddress = await http.GetAsync(new Uri($"http://{redirect}/health/live")))
        {
            Assert.That((int)byAddress.StatusCode, Is.EqualTo(200), "the plain vhost serves a Host that names no vhost");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{redirect}/health/live"));
        request.Headers.Host = "alpha.test";
        using var named = await http.SendAsync(request);
        Assert.That((int)named.StatusCode, Is.EqualTo(301));
    }

    [Test]
    public async Task RedirectHttpPort_SendsPlainRequestsToTheHttpsPort()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var (certificate, key) = _certificates.WritePem(_alpha, "redirect");
        var options = Vhost("alpha.test", 0, certificate, key);
        options.Tls!.RedirectHttpPort = 0;
        var endPoint = await server.Context.CreateVhostAsync(options, CancellationToken.None);
        var redirect = server.Context.FindVhost("alpha.test")!.Tls!.RedirectEndPoint!;
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = WsClient.DefaultTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{redirect}/some/page?x=1"));
        request.Headers.Host = "alpha.test";

        using var response = await http.SendAsync(request);

        Assert.That((int)response.StatusCode, Is.EqualTo(301));
        Assert.That(response.Headers.Location, Is.EqualTo(new Uri($"https://alpha.test:{endPoint.Port}/some/page?x=1")));

        // Destroying the vhost frees the redirect's port along with the HTTPS one.
        Assert.That(await server.Context.DestroyVhostAsync("alpha.test", CancellationToken.None), Is.True);
        await Eventually.WaitUntilAsync(() => server.Context.GetDiagnostics().Listeners == 0, TimeSpan.FromSeconds(15));
    }

    [Test]
    public async Task RequiredClientCertificate_RefusesClientsWithoutOne_AndServesThoseTheCaSigned()
    {
        var ca = _certificates.CertificateAuthority("lws test CA");
        var otherCa = _certificates.CertificateAuthority("someone else");
        var caFile = _certificates.WriteFile("ca.pem", ca.ExportCertificatePem());
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var (certificate, key) = _certificates.WritePem(_alpha, "mtls");
        var options = Vhost("alpha.test", 0, certificate, key);
        options.Tls!.Ca = caFile;
        options.Tls.ClientCertificate = TlsClientCertificateMode.Required;
        var endPoint = await server.Context.CreateVhostAsync(options, CancellationToken.None);

        await using (var trusted = await TlsProbe.ConnectAsync(endPoint, "alpha.test", _certificates.ClientCertificate("client", ca)))
        {
            Assert.That((await trusted.GetAsync("alpha.test")).Status, Is.EqualTo(404));
        }

        Assert.That(await RefusedAsync(endPoint, null), Is.True, "no client certificate");
        Assert.That(await RefusedAsync(endPoint, _certificates.ClientCertificate("stranger", otherCa)), Is.True, "a certificate from another CA");
    }

    [Test]
    public async Task TlsAndPlainVhosts_CannotShareAPort()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var tlsEndPoint = await CreateAsync(server, "alpha.test", 0, _alpha);
        var plainEndPoint = await server.Context.CreateVhostAsync(LoopbackServer.Vhost("plain", "dumb-increment-protocol"), CancellationToken.None);

        var plain = LoopbackServer.Vhost("plain-too", "dumb-increment-protocol");
        plain.Port = tlsEndPoint.Port;
        var error = Assert.ThrowsAsync<LwsConfigurationException>(() => server.Context.CreateVhostAsync(plain, CancellationToken.None))!;
        Assert.That(error.Message, Does.Contain("vhost 'plain-too'").And.Contain("with TLS by vhost 'alpha.test'"));

        var (certificate, key) = _certificates.WritePem(_beta, "share");
        error = Assert.ThrowsAsync<LwsConfigurationException>(() => server.Context.CreateVhostAsync(Vhost("beta.test", plainEndPoint.Port, certificate, key), CancellationToken.None))!;
        Assert.That(error.Message, Does.Contain("vhost 'beta.test'").And.Contain("without TLS by vhost 'plain'"));
        Assert.That(server.Context.VhostNames, Is.EquivalentTo(new[] { "alpha.test", "plain" }));
    }

    [Test]
    public async Task KeyThatDoesNotMatchTheCertificate_IsRefusedNamingTheVhostAndBothFiles()
    {
        await using var server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath);
        var (alphaCertificate, _) = _certificates.WritePem(_alpha, "mismatch-alpha");
        var (_, betaKey) = _certificates.WritePem(_beta, "mismatch-beta");

        var error = Assert.ThrowsAsync<LwsConfigurationException>(
            () => server.Context.CreateVhostAsync(Vhost("alpha.test", 0, alphaCertificate, betaKey), CancellationToken.None))!;

        Assert.That(error.Message, Does.Contain("vhost 'alpha.test'").And.Contain("tls.key").And.Contain(betaKey).And.Contain(alphaCertificate).And.Contain("does not match"));
        Assert.That(server.Context.GetDiagnostics().Listeners, Is.Zero, "nothing was bound");
    }

    private async Task<IPEndPoint> CreateAsync(LoopbackServer server, string name, int port, X509Certificate2 certificate)
    {
        var (certificatePath, keyPath) = _certificates.WritePem(certificate, name + "-" + Guid.NewGuid().ToString("N"));
        return await server.Context.CreateVhostAsync(Vhost(name, port, certificatePath, keyPath), CancellationToken.None);
    }

    private static VhostOptions Vhost(string name, int port, string certificate, string key)
    {
        var options = LoopbackServer.Vhost(name, Protocols);
        options.Port = port;
        options.Tls = new VhostTlsOptions { Certificate = certificate, Key = key };
        return options;
    }

    private static async Task<string> PresentedAsync(IPEndPoint endPoint, string? serverName)
    {
        await using var probe = await TlsProbe.ConnectAsync(endPoint, serverName);
        return probe.ServerCertificate.Thumbprint;
    }

    private static async Task<bool> RefusedAsync(IPEndPoint endPoint, X509Certificate2? clientCertificate)
    {
        try
        {
            // TLS 1.3 reports a refused client certificate after the handshake: the first read fails.
            await using var probe = await TlsProbe.ConnectAsync(endPoint, "alpha.test", clientCertificate);
            await probe.GetAsync("alpha.test");
            return false;
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException or FormatException or IndexOutOfRangeException)
        {
            return true;
        }
    }
}
