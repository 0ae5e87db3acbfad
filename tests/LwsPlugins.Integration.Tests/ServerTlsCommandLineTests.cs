using System.Net;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>The server's -s/--ssl, as lws's test server: a generated or a configured certificate for the default vhost.</summary>
[TestFixture]
public sealed class ServerTlsCommandLineTests
{
    [Test]
    public async Task Ssl_WithAGeneratedCertificate_ServesTheDemoPageOverHttpsAndProtocolsOverWss()
    {
        await using var server = await ServerProcess.StartAsync("-p", "0", "-s");
        var endPoint = server.EndPoint;
        await using (var probe = await TlsProbe.ConnectAsync(endPoint, "localhost"))
        {
            Assert.That(probe.ServerCertificate.Subject, Is.EqualTo("CN=localhost"));
            var (status, page) = await probe.GetAsync("localhost");
            Assert.That(status, Is.EqualTo(200));
            Assert.That(page, Does.Contain("LwsPlugins demo"));
        }

        using var presented = await PresentedAsync(endPoint);
        await using var counter = await WsClient.ConnectTlsAsync(new Uri($"wss://localhost:{endPoint.Port}/"), endPoint, presented, "dumb-increment-protocol");
        Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));
    }

    [Test]
    public async Task Ssl_WithCertificateFiles_PresentsThatCertificate()
    {
        using var certificates = new TestCertificates();
        var certificate = certificates.ServerCertificate("localhost");
        var (certificateFile, keyFile) = certificates.WritePem(certificate, "server");

        await using var server = await ServerProcess.StartAsync("-p", "0", "-s", "-C", certificateFile, "-K", keyFile);

        using var presented = await PresentedAsync(server.EndPoint);
        Assert.That(presented.Thumbprint, Is.EqualTo(certificate.Thumbprint));
        await using var mirror = await WsClient.ConnectTlsAsync(new Uri($"wss://localhost:{server.EndPoint.Port}/"), server.EndPoint, certificate, "lws-mirror-protocol");
        await mirror.SendTextAsync("d #000000 1 2 3 4;");
        Assert.That(await mirror.ReceiveTextAsync(), Is.EqualTo("d #000000 1 2 3 4;"));
    }

    [Test]
    public async Task Ssl_WithAMissingKeyFile_ExitsWith2NamingTheVhostAndTheFile()
    {
        using var certificates = new TestCertificates();
        var (certificateFile, keyFile) = certificates.WritePem(certificates.ServerCertificate("localhost"), "server");
        File.Delete(keyFile);

        var (exitCode, output) = await ServerProcess.RunToExitAsync("-p", "0", "-s", "-C", certificateFile, "-K", keyFile);

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain($"vhost 'localhost': tls.key: file '{keyFile}' does not exist"));
    }

    [Test]
    public async Task SslFilesWithoutSsl_ExitWith2()
    {
        var (exitCode, output) = await ServerProcess.RunToExitAsync("-p", "0", "-C", "cert.pem");

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain("--ssl-cert, --ssl-key and --ssl-ca need -s/--ssl"));
    }

    private static async Task<System.Security.Cryptography.X509Certificates.X509Certificate2> PresentedAsync(IPEndPoint endPoint)
    {
        await using var probe = await TlsProbe.ConnectAsync(endPoint, "localhost");
        return probe.ServerCertificate;
    }
}
