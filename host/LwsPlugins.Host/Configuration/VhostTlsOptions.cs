using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Serialization;

namespace LwsPlugins.Host.Configuration;

/// <summary>
/// TLS for a vhost (lws: <c>ssl_cert_filepath</c>, <c>ssl_private_key_filepath</c>, <c>ssl_ca_filepath</c>). Vhosts sharing
/// a TLS port are chosen by SNI; each presents its own certificate, loaded when the vhost is created and dropped with it.
/// </summary>
public sealed class VhostTlsOptions
{
    /// <summary>The PEM file with the server certificate, optionally followed by its intermediate certificates.</summary>
    public string? Certificate { get; set; }

    /// <summary>The PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1, unencrypted).</summary>
    public string? Key { get; set; }

    /// <summary>A PEM file of CA certificates client certificates must chain to; only with <see cref="ClientCertificate"/> set.</summary>
    public string? Ca { get; set; }

    /// <summary>Whether clients are asked for a certificate (lws: <c>LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT</c>).</summary>
    public TlsClientCertificateMode ClientCertificate { get; set; } = TlsClientCertificateMode.None;

    /// <summary>
    /// A plain HTTP port on the vhost's address whose requests naming this vhost are redirected (301) to its HTTPS port;
    /// 0 lets the system choose; off when unset.
    /// </summary>
    public int? RedirectHttpPort { get; set; }

    /// <summary>A certificate with its private key given in code instead of files (the command line's generated one); not read from JSON.</summary>
    [JsonIgnore]
    public X509Certificate2? ServerCertificate { get; set; }
}
