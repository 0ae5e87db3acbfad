namespace LwsPlugins.Sdk.Status;

/// <summary>The host's view of itself, for status protocols. Offered to every protocol instance through its services.</summary>
public interface IServerStatusSource
{
    /// <summary>The server's version string.</summary>
    string ServerVersion { get; }

    /// <summary>The machine's host name.</summary>
    string HostName { get; }

    /// <summary>Takes a consistent snapshot of vhosts, protocols, sessions, plugins and traffic.</summary>
    /// <returns>The snapshot.</returns>
    ServerStatusSnapshot GetSnapshot();
}
