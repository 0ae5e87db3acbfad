using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LwsPlugins.Tests.Common;

/// <summary>Certificates made by the tests with <see cref="CertificateRequest"/> (ECDSA P-256), and their PEM files in a temporary folder.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly List<X509Certificate2> _made = [];

    public TestCertificates()
    {
        Folder = Path.Combine(Path.GetTempPath(), "lws-certs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>A self-signed server certificate for <paramref name="dnsName"/> (and 127.0.0.1), valid for a day.</summary>
    public X509Certificate2 ServerCertificate(string dnsName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = Request(dnsName, key, serverAuth: true);
        return Keep(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)));
    }

    /// <summary>A CA certificate that can sign others.</summary>
    public X509Certificate2 CertificateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return Keep(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)));
    }

    /// <summary>A client certificate signed by <paramref name="issuer"/>.</summary>
    public X509Certificate2 ClientCertificate(string name, X509Certificate2 issuer)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = Request(name, key, serverAuth: false);
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var signed = request.Create(issuer, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), serial);
        return Keep(signed.CopyWithPrivateKey(key));
    }

    /// <summary>Writes the certificate and its private key as PEM files; returns their paths.</summary>
    public (string Certificate, string Key) WritePem(X509Certificate2 certificate, string name)
    {
        var certificatePath = Path.Combine(Folder, name + ".crt.pem");
        var keyPath = Path.Combine(Folder, name + ".key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        if (certificate.GetECDsaPrivateKey() is { } ec)
        {
            using (ec)
            {
                File.WriteAllText(keyPath, ec.ExportPkcs8PrivateKeyPem());
            }
        }
        else if (certificate.GetRSAPrivateKey() is { } rsa)
        {
            using (rsa)
            {
                File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
            }
        }

        return (certificatePath, keyPath);
    }

    /// <summary>Writes a file in the folder; returns its path.</summary>
    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static CertificateRequest Request(string name, ECDsa key, bool serverAuth)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(name);
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        return request;
    }

    private X509Certificate2 Keep(X509Certificate2 certificate)
    {
        _made.Add(certificate);
        return certificate;
    }

    public void Dispose()
    {
        foreach (var certificate in _made)
        {
            certificate.Dispose();
        }

        Directory.Delete(Folder, recursive: true);
    }
}
