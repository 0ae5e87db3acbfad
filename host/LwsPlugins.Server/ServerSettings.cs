using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Server;

/// <summary>
/// What the command line resolved: the options, the configuration file and conf.d folder to keep live, and the user and
/// group to drop to once the start-up vhosts listen (each a name or a numeric id, or null). With an lwsws folder, the
/// files are read in its format through <paramref name="Lwsws"/>, which also names the keys with no equivalent.
/// </summary>
internal sealed record ServerSettings(
    LwsServerOptions Options,
    string? ConfigFile,
    string? ConfD,
    string? User = null,
    string? Group = null,
    Lwsws.LwswsLiveFiles? Lwsws = null);
