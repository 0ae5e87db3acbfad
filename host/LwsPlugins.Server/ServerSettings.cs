using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Server;

/// <summary>
/// What the command line resolved: the options, the configuration file and conf.d folder to keep live, and the user and
/// group to drop to once the start-up vhosts listen (each a name or a numeric id, or null). With an lwsws folder, the
/// files are read in its format (<paramref name="ParseVhosts"/>) and <paramref name="Unsupported"/> names the keys with
/// no equivalent, for the one start-up message.
/// </summary>
internal sealed record ServerSettings(
    LwsServerOptions Options,
    string? ConfigFile,
    string? ConfD,
    string? User = null,
    string? Group = null,
    Func<string, string, IReadOnlyList<VhostOptions>>? ParseVhosts = null,
    IReadOnlyList<string>? Unsupported = null);
