using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace LwsPlugins.Tests.Common;

/// <summary>Raw TLS connections to a loopback endpoint with a chosen SNI, for tests: the certificate presented, and plain HTTP/1.1 over it.</summary>
public sealed class TlsProbe : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _ssl;

    private TlsProbe(TcpClient tcp, SslStream ssl)
    {
        _tcp = tcp;
        _ssl = ssl;
    }

    /// <summary>The certificate the server presented.</summary>
    public X509Certificate2 ServerCertificate => new(_ssl.RemoteCertificate!);

    /// <summary>Connects and completes a TLS handshake naming <paramref name="serverName"/> by SNI (none when null); any certificate is accepted.</summary>
    public static async Task<TlsProbe> ConnectAsync(IPEndPoint endPoint, string? serverName, X509Certificate2? clientCertificate = null)
    {
        var tcp = new TcpClient();
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        try
        {
            await tcp.ConnectAsync(endPoint, timeout.Token);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = serverName ?? "",
                    // The probe reports which certificate was presented; the tests compare it with the one they expect.
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
                    ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                },
                timeout.Token);
            return new TlsProbe(tcp, ssl);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends a GET with the given Host header and returns the status code and the whole response text (the server closes).</summary>
    public async Task<(int Status, string Response)> GetAsync(string host, string path = "/")
    {
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        await _ssl.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), timeout.Token);
        using var reader = new StreamReader(_ssl, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(timeout.Token);
        var status = int.Parse(text.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, text);
    }

    public async ValueTask DisposeAsync()
    {
        await _ssl.DisposeAsync();
        _tcp.Dispose();
    }
}
