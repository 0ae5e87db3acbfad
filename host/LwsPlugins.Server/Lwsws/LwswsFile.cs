using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Server.Lwsws;

/// <summary>
/// What one lwsws file translates to: its vhosts, its <c>global</c> settings (the main <c>conf</c> only), and every key
/// it holds that has no equivalent here, each as <c>file: path.to.key</c> so the operator can find it.
/// </summary>
internal sealed record LwswsFile(IReadOnlyList<VhostOptions> Vhosts, LwswsGlobal? Global, IReadOnlyList<string> Unsupported);

/// <summary>The keys of lwsws's <c>global</c> object that have an equivalent here.</summary>
internal sealed record LwswsGlobal(string? User, string? Group, string? PluginDir);
