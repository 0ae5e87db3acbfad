using System.CommandLine;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Server;

/// <summary>lws test-server style options, and the configuration they produce.</summary>
internal static class ServerCommandLine
{
    public static readonly string[] BundledProtocols = ["dumb-increment-protocol", "lws-mirror-protocol", "lws-status", "lws-server-status"];

    public static readonly Option<int> Port = new("--port", "-p") { Description = "Port of the default vhost.", DefaultValueFactory = _ => 7681 };

    public static readonly Option<string> Interface = new("--interface", "-i") { Description = "IP address or network interface name the default vhost listens on.", DefaultValueFactory = _ => "127.0.0.1" };

    public static readonly Option<string?> ResourcePath = new("--resource-path", "-r") { Description = "Folder the default vhost serves at / instead of the bundled demo page." };

    public static readonly Option<FileInfo?> Config = new("--config", "-c") { Description = "JSON configuration file with vhosts (replaces the embedded default vhost)." };

    public static readonly Option<string?> Plugins = new("--plugins") { Description = "Plugins folder (default: plugins/ beside the server)." };

    public static readonly Option<LogLevel> LogLevelOption = new("--log-level", "-d") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };

    public static readonly Option<string?> Redis = new("--redis") { Description = "Redis connection string of the fan-out backplane (mirror instances span the servers sharing it); overrides the configuration's backplane.redis." };

    public static RootCommand CreateRootCommand()
        => new("LwsPlugins: a WebSocket server whose protocols are plugins, wire-compatible with libwebsockets' test server.")
        {
            Port, Interface, ResourcePath, Config, Plugins, LogLevelOption,
            Redis,
        };

    /// <summary>The configuration: the file given with --config (watched while running), else the embedded default vhost.</summary>
    public static ServerSettings BuildSettings(ParseResult parse)
    {
        var file = parse.GetValue(Config)?.FullName;
        var options = file is not null ? LwsServerConfigFile.Load(file) : EmbeddedDefault(parse);
        if (parse.GetValue(Plugins) is { } plugins)
        {
            options.PluginsPath = Path.GetFullPath(plugins);
        }

        if (parse.GetValue(Redis) is { } redis)
        {
            // Validated with the rest of the backplane's options when the server starts (errors name backplane.redis).
            options.Backplane.Redis = redis;
        }

        var confD = file is not null && options.ConfD is { } folder ? Path.Combine(Path.GetDirectoryName(file)!, folder) : null;
        return new ServerSettings(options, file, confD);
    }

    private static LwsServerOptions EmbeddedDefault(ParseResult parse) => new()
    {
        Vhosts =
        [
            new VhostOptions
            {
                Name = "localhost",
                Address = parse.GetValue(Interface)!,
                Port = parse.GetValue(Port),
                Protocols = [.. BundledProtocols.Select(p => new ProtocolSelection(p))],
                Mounts = [new MountOptions { MountPoint = "/", Origin = parse.GetValue(ResourcePath) is { } path ? Path.GetFullPath(path) : "www" }],
            },
        ],
    };
}
