namespace LwsPlugins.Sdk.Status;

/// <summary>The whole server at one moment.</summary>
public sealed class ServerStatusSnapshot
{
    /// <summary>The server's version string.</summary>
    public required string ServerVersion { get; init; }

    /// <summary>The machine's host name.</summary>
    public required string HostName { get; init; }

    /// <summary>When the snapshot was taken.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>When the server context started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Figures of the server process.</summary>
    public required ProcessStatus Process { get; init; }

    /// <summary>Memory per session and message rates; <see langword="null"/> from a source that does not measure them.</summary>
    public PerformanceStatus? Performance { get; init; }

    /// <summary>Every vhost, serving or being destroyed.</summary>
    public required IReadOnlyList<VhostStatus> Vhosts { get; init; }

    /// <summary>Every plugin the catalog knows, with its generations.</summary>
    public required IReadOnlyList<PluginStatus> Plugins { get; init; }

    /// <summary>The fan-out backplane between servers and its health; <see langword="null"/> when the host has none.</summary>
    public BackplaneStatus? Backplane { get; init; }
}
