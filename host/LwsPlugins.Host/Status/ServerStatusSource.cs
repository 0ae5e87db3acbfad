using System.Net;
using System.Reflection;
using LwsPlugins.Host.Plugins;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Host.Status;

/// <summary>Builds status snapshots from the context's vhosts and plugin catalog.</summary>
internal sealed class ServerStatusSource(Func<IReadOnlyList<Vhost>> vhosts, PluginCatalog catalog, TimeProvider time) : IServerStatusSource
{
    public string ServerVersion { get; } = "LwsPlugins/" + (typeof(ServerStatusSource).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0");

    public string HostName { get; } = Dns.GetHostName();

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public ServerStatusSnapshot GetSnapshot() => new()
    {
        ServerVersion = ServerVersion,
        HostName = HostName,
        Time = time.GetUtcNow(),
        StartedAt = StartedAt,
        Vhosts = [.. vhosts().Select(Describe)],
        Plugins = [.. catalog.Plugins.Select(Describe)],
    };

    private static VhostStatus Describe(Vhost vhost) => new()
    {
        Name = vhost.Name,
        Listen = vhost.EndPoint?.ToString() ?? $"{vhost.Address}:{vhost.Options.Port}",
        State = vhost.State == VhostState.Serving ? "serving" : "destroying",
        Sessions = vhost.SessionCount,
        BytesIn = vhost.Traffic.BytesIn,
        BytesOut = vhost.Traffic.BytesOut,
        MessagesIn = vhost.Traffic.MessagesIn,
        MessagesOut = vhost.Traffic.MessagesOut,
        Protocols = [.. vhost.Protocols.Select(p => new ProtocolStatus
        {
            Name = p.Name,
            PluginId = p.PluginId,
            Generation = p.Generation,
            State = p.IsAvailable ? "available" : "unavailable",
            Sessions = p.Sessions,
        })],
    };

    private static PluginStatus Describe(PluginEntry plugin) => new()
    {
        Id = plugin.Id,
        Path = plugin.Directory,
        Generations = [.. plugin.Generations.Select(g => new PluginGenerationStatus
        {
            Number = g.Number,
            Version = g.Manifest?.Version.ToNormalizedString(),
            State = g.State.ToString().ToLowerInvariant(),
            Error = g.Error,
            LoadedAt = g.LoadedAt,
            Protocols = [.. g.Manifest?.Protocols.Select(p => p.Name) ?? []],
        })],
    };
}
