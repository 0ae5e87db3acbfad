namespace LwsPlugins.Sdk.Status;

/// <summary>
/// The <c>lws-server-status</c> document (documented in the README): what the server-status protocol sends and what
/// <c>GET /status</c> answers, one shape for both. Serialise it with camelCase property names.
/// </summary>
public sealed class ServerStatusDocument
{
    private ServerStatusDocument(ServerStatusSnapshot snapshot)
    {
        Version = snapshot.ServerVersion;
        Hostname = snapshot.HostName;
        Time = snapshot.Time;
        StartedAt = snapshot.StartedAt;
        UptimeSeconds = (long)(snapshot.Time - snapshot.StartedAt).TotalSeconds;
        Process = snapshot.Process;
        Performance = snapshot.Performance;
        Vhosts = snapshot.Vhosts;
        Plugins = snapshot.Plugins;
        Backplane = snapshot.Backplane;
    }

    /// <summary>The server's version.</summary>
    public string Version { get; }

    /// <summary>The machine's host name.</summary>
    public string Hostname { get; }

    /// <summary>When the snapshot was taken.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>When the server started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Whole seconds from <see cref="StartedAt"/> to <see cref="Time"/>.</summary>
    public long UptimeSeconds { get; }

    /// <summary>The process: id, memory, threads.</summary>
    public ProcessStatus Process { get; }

    /// <summary>CPU and GC figures, when sampled.</summary>
    public PerformanceStatus? Performance { get; }

    /// <summary>Every vhost, serving or being destroyed.</summary>
    public IReadOnlyList<VhostStatus> Vhosts { get; }

    /// <summary>Every plugin with its generations.</summary>
    public IReadOnlyList<PluginStatus> Plugins { get; }

    /// <summary>The fan-out backplane, when one spans servers.</summary>
    public BackplaneStatus? Backplane { get; }

    /// <summary>The document of a snapshot.</summary>
    /// <param name="snapshot">The server's status now (<see cref="IServerStatusSource.GetSnapshot"/>).</param>
    /// <returns>The document.</returns>
    public static ServerStatusDocument From(ServerStatusSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return new ServerStatusDocument(snapshot);
    }
}
