using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Server;

/// <summary>What the command line resolved: the options, and the configuration file and conf.d folder to keep live.</summary>
internal sealed record ServerSettings(LwsServerOptions Options, string? ConfigFile, string? ConfD);
