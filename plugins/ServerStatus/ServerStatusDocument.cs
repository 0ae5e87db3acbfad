using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Plugins.ServerStatus;

/// <summary>The <c>lws-server-status</c> document, documented in the README.</summary>
internal sealed record ServerStatusDocument(
    string Version,
    string Hostname,
    DateTimeOffset Time,
    DateTimeOffset StartedAt,
    long UptimeSeconds,
    ProcessStatus Process,
    PerformanceStatus? Performance,
    IReadOnlyList<VhostStatus> Vhosts,
    IReadOnlyList<PluginStatus> Plugins,
    BackplaneStatus? Backplane);
