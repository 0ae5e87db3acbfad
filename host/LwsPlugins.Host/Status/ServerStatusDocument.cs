using System.Text.Json.Serialization;
using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Host.Status;

/// <summary>
/// The <c>lws-server-status</c> document as the server-status plugin sends it (same fields, same camelCase names),
/// for <c>GET /status</c> on the admin API and on a vhost's <c>statusPath</c>.
/// </summary>
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
    BackplaneStatus? Backplane)
{
    public static ServerStatusDocument From(ServerStatusSnapshot snapshot) => new(
        snapshot.ServerVersion,
        snapshot.HostName,
        snapshot.Time,
        snapshot.StartedAt,
        (long)(snapshot.Time - snapshot.StartedAt).TotalSeconds,
        snapshot.Process,
        snapshot.Performance,
        snapshot.Vhosts,
        snapshot.Plugins,
        snapshot.Backplane);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ServerStatusDocument))]
internal sealed partial class ServerStatusDocumentJsonContext : JsonSerializerContext;
