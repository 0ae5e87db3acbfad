namespace LwsPlugins.Host.Configuration;

/// <summary>Whether a TLS vhost asks its clients for a certificate.</summary>
public enum TlsClientCertificateMode
{
    /// <summary>No client certificate is asked for.</summary>
    None,

    /// <summary>A client certificate is asked for; a client without one is served, one with an invalid one is refused.</summary>
    Optional,

    /// <summary>A valid client certificate is required; the TLS handshake fails without one.</summary>
    Required,
}
