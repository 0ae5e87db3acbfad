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

    /// <summary>
    /// Calls <paramref name="onChange"/> whenever something the snapshot shows changes: a vhost created or destroyed, a
    /// session opened or closed, a plugin generation loaded or retired. Calls may come from any thread and in bursts;
    /// coalesce them. The host drops the subscription when the protocol instance is disposed, if the plugin has not.
    /// </summary>
    /// <param name="onChange">The callback; it must be quick and must not throw.</param>
    /// <returns>Disposing it ends the subscription.</returns>
    IDisposable Subscribe(Action onChange);
}
