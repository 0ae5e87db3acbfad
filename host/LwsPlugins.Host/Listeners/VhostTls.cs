using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// A vhost's TLS material: its certificate (with intermediates) and how it checks client certificates. Loaded when the
/// vhost is created, so a bad file fails that vhost alone with the vhost, key and file named; disposed with the vhost.
/// </summary>
internal sealed class VhostTls : IDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly bool _ownsCertificate;
    private readonly SslStreamCertificateContext _context;
    private readonly X509Certificate2Collection _intermediates;
    private readonly X509Certificate2Collection? _trustedCas;
    private readonly TlsClientCertificateMode _clientCertificate;

    private VhostTls(
        X509Certificate2 certificate, bool ownsCertificate, X509Certificate2Collection intermediates, X509Certificate2Collection? trustedCas, VhostTlsOptions options)
    {
        _certificate = certificate;
        _ownsCertificate = ownsCertificate;
        _intermediates = intermediates;
        _trustedCas = trustedCas;
        _clientCertificate = options.ClientCertificate;
        RedirectHttpPort = options.RedirectHttpPort;
        _context = SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
    }

    /// <summary>The certificate presented to clients that name this vhost (by SNI).</summary>
    public X509Certificate2 Certificate => _certificate;

    /// <summary>The plain HTTP port redirected to this vhost's HTTPS port, when set.</summary>
    public int? RedirectHttpPort { get; }

    /// <summary>The bound endpoint of the plain HTTP redirect, once its listener runs.</summary>
    public IPEndPoint? RedirectEndPoint { get; set; }

    /// <summary>Loads a vhost's certificate, key and CA files (relative paths against <paramref name="baseDirectory"/>).</summary>
    /// <exception cref="LwsConfigurationException">A file is missing, unreadable, not PEM, or the key does not match the certificate.</exception>
    public static VhostTls Load(string vhost, VhostTlsOptions options, string baseDirectory, TimeProvider time)
    {
        X509Certificate2Collection? trustedCas = null;
        if (options.Ca is { } caFile)
        {
            var caPath = Path.GetFullPath(Path.Combine(baseDirectory, caFile));
            trustedCas = ReadCertificates(vhost, "tls.ca", caPath);
        }

        if (options.ServerCertificate is { } given)
        {
            return new VhostTls(given, ownsCertificate: false, [], trustedCas, options);
        }

        var certificatePath = Path.GetFullPath(Path.Combine(baseDirectory, options.Certificate!));
        var keyPath = Path.GetFullPath(Path.Combine(baseDirectory, options.Key!));
        var chain = ReadCertificates(vhost, "tls.certificate", certificatePath);
        var keyPem = ReadText(vhost, "tls.key", keyPath);
        if (keyPem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new LwsConfigurationException($"vhost '{vhost}': tls.key: '{keyPath}' holds an encrypted private key; give it unencrypted (e.g. openssl pkey -in key.pem -out plain.pem).");
        }

        if (!keyPem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new LwsConfigurationException($"vhost '{vhost}': tls.key: '{keyPath}' holds no PEM private key (-----BEGIN PRIVATE KEY-----).");
        }

        var leaf = chain[0];
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(leaf.ExportCertificatePem(), keyPem);
        }
        catch (ArgumentException)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': tls.key: the private key in '{keyPath}' does not match the certificate in '{certificatePath}'.");
        }
        catch (CryptographicException ex)
        {
            throw new LwsConfigurationException(
                $"vhost '{vhost}': tls.key: '{keyPath}' holds no usable private key for the {leaf.PublicKey.Oid.FriendlyName} certificate in '{certificatePath}' (malformed, or a key of another kind): {ex.Message}",
                ex);
        }

        if (certificate.NotAfter.ToUniversalTime() is var notAfter && time.GetUtcNow().UtcDateTime > notAfter)
        {
            certificate.Dispose();
            throw new LwsConfigurationException($"vhost '{vhost}': tls.certificate: the certificate in '{certificatePath}' expired on {notAfter:u}.");
        }

        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }

        leaf.Dispose();
        return new VhostTls(certificate, ownsCertificate: true, intermediates, trustedCas, options);
    }

    /// <summary>The server side of a TLS handshake for this vhost (a fresh object per connection: Kestrel may change it).</summary>
    /// <summary>Whether ALPN offers <c>h2</c> to the clients of this vhost (<see cref="Configuration.VhostOptions.Http2"/>).</summary>
    public bool OffersHttp2 { get; set; } = true;

    public SslServerAuthenticationOptions CreateServerOptions()
    {
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = _context,
            // Per vhost, by SNI: h2 first when the vhost offers it (RFC 7540 9.2.1 forbids renegotiation under HTTP/2).
            ApplicationProtocols = OffersHttp2 ? [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11] : [SslApplicationProtocol.Http11],
            AllowRenegotiation = !OffersHttp2,
            EnabledSslProtocols = SslProtocols.None, // the system's defaults (TLS 1.2 and 1.3)
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (_clientCertificate != TlsClientCertificateMode.None)
        {
            options.ClientCertificateRequired = true;
            options.RemoteCertificateValidationCallback = ValidateClientCertificate;
        }

        return options;
    }

    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return _clientCertificate == TlsClientCertificateMode.Optional;
        }

        if (_trustedCas is null)
        {
            return errors == SslPolicyErrors.None;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trustedCas);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return certificate is X509Certificate2 certificate2 ? custom.Build(certificate2) : custom.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static X509Certificate2Collection ReadCertificates(string vhost, string key, string path)
    {
        var text = ReadText(vhost, key, path);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(text);
        }
        catch (CryptographicException ex)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: '{path}' is not a valid PEM certificate file: {ex.Message}", ex);
        }

        if (certificates.Count == 0)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
        }

        return certificates;
    }

    private static string ReadText(string vhost, string key, string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: file '{path}' does not exist.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            var reason = Directory.Exists(path) ? "it is a folder, not a file" : $"permission denied (the server runs as user '{Environment.UserName}')";
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: cannot read '{path}': {reason}.", ex);
        }
        catch (IOException ex)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: cannot read '{path}': {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        if (_ownsCertificate)
        {
            _certificate.Dispose();
        }

        foreach (var certificate in _intermediates)
        {
            certificate.Dispose();
        }

        if (_trustedCas is not null)
        {
            foreach (var certificate in _trustedCas)
            {
                certificate.Dispose();
            }
        }
    }
}
