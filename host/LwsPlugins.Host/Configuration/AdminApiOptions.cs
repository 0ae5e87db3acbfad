namespace LwsPlugins.Host.Configuration;

/// <summary>The admin HTTP API: list, create and destroy vhosts. Off by default; loopback only; bearer token required.</summary>
public sealed class AdminApiOptions
{
    /// <summary>Whether the API listens.</summary>
    public bool Enabled { get; set; }

    /// <summary>The loopback address it listens on.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Its port; 0 lets the system choose.</summary>
    public int Port { get; set; } = 7680;

    /// <summary>The bearer token every request must carry (<c>Authorization: Bearer &lt;token&gt;</c>); at least 16 characters.</summary>
    public string? Token { get; set; }
}
