using System.CommandLine;
using System.Globalization;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Server;

/// <summary>lws test-server style options, and the configuration they produce.</summary>
internal static class ServerCommandLine
{

    public static readonly Option<int> Port = new("--port", "-p") { Description = "Port of the default vhost.", DefaultValueFactory = _ => 7681 };

    public static readonly Option<string> Interface = new("--interface", "-i") { Description = "IP address or network interface name the default vhost listens on.", DefaultValueFactory = _ => "127.0.0.1" };

    public static readonly Option<string?> UnixSocket = new("--unix-socket", "-U")
    {
        Description = "Serve the default vhost on this Unix domain socket instead of -i/-p (lws: -U); the socket file is removed on exit.",
    };

    public static readonly Option<string?> ResourcePath = new("--resource-path", "-r") { Description = "Folder the default vhost serves at / instead of the bundled demo page." };

    public static readonly Option<FileInfo?> Config = new("--config", "-c") { Description = "JSON configuration file with vhosts (replaces the embedded default vhost)." };

    public static readonly Option<DirectoryInfo?> LwswsConfig = new("--lwsws-config")
    {
        Description = "lwsws configuration folder: DIR/conf (global) and DIR/conf.d/* (vhosts) in lwsws's format, kept live as with -c; keys with no equivalent are named at start.",
    };

    public static readonly Option<string?> Plugins = new("--plugins") { Description = "Plugins folder (default: plugins/ beside the server)." };

    public static readonly Option<bool> BindInterface = new("--bind-interface", "-k")
    {
        Description = "Bind the default vhost's listen socket to the interface named by -i (SO_BINDTODEVICE, lws: bind_iface); connections arriving on other interfaces are refused.",
    };

    public static readonly Option<bool> Ssl = new("--ssl", "-s")
    {
        Description = "Serve the default vhost over TLS (https://, wss://) with --ssl-cert/--ssl-key, or a self-signed certificate generated at start.",
    };

    public static readonly Option<FileInfo?> SslCert = new("--ssl-cert", "-C") { Description = "PEM certificate file for --ssl (with intermediates after it)." };

    public static readonly Option<FileInfo?> SslKey = new("--ssl-key", "-K") { Description = "PEM private key file for --ssl." };

    public static readonly Option<FileInfo?> SslCa = new("--ssl-ca", "-A") { Description = "PEM CA file: with --ssl, clients must present a certificate signed by it." };

    public static readonly Option<string?> User = new("--uid", "-u")
    {
        Description = "User (name or numeric id) to drop to once every start-up listen socket is bound; the server must start as root.",
    };

    public static readonly Option<string?> Group = new("--gid", "-g") { Description = "Group (name or numeric id) to drop to; default: the user's primary group." };

    public static readonly Option<LogLevel> LogLevelOption = new("--log-level", "-d") { Description = "Minimum log level.", DefaultValueFactory = _ => LogLevel.Information };

    public static readonly Option<string> LogFormat = new Option<string>("--log-format")
    {
        Description = "Console log format: 'text' (one line per entry, UTC ISO 8601 time first) or 'json' (one JSON object per line).",
        DefaultValueFactory = _ => "text",
    }.AcceptOnlyFromAmong("text", "json");

    public static readonly Option<string?> Redis = new("--redis") { Description = "Redis connection string of the fan-out backplane (mirror instances span the servers sharing it); overrides the configuration's backplane.redis." };

    public static RootCommand CreateRootCommand()
        => new("LwsPlugins: a WebSocket server whose protocols are plugins, wire-compatible with libwebsockets' test server.")
        {
            Port, Interface, BindInterface, UnixSocket, Ssl, SslCert, SslKey, SslCa, ResourcePath, Config, LwswsConfig, Plugins, User, Group, LogLevelOption,
            Redis, LogFormat,
        };

    /// <summary>The configuration: the file given with --config (watched while running), else the embedded default vhost.</summary>
    public static ServerSettings BuildSettings(ParseResult parse)
    {
        if (parse.GetValue(LwswsConfig) is { } lwsws)
        {
            return LwswsSettings(parse, lwsws.FullName);
        }

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

        // -u/-g override the configuration file's user/uid and group/gid.
        var user = parse.GetValue(User) ?? options.User ?? options.Uid?.ToString(CultureInfo.InvariantCulture);
        var group = parse.GetValue(Group) ?? options.Group ?? options.Gid?.ToString(CultureInfo.InvariantCulture);
        return new ServerSettings(options, file, confD, user, group);
    }

    private static ServerSettings LwswsSettings(ParseResult parse, string directory)
    {
        if (parse.GetValue(Config) is not null)
        {
            throw new LwsConfigurationException("-c/--config and --lwsws-config cannot be combined: give one configuration.");
        }

        var (options, unsupported) = Lwsws.LwswsDirectory.Load(directory);
        if (parse.GetValue(Plugins) is { } plugins)
        {
            options.PluginsPath = Path.GetFullPath(plugins);
        }

        if (parse.GetValue(Redis) is { } redis)
        {
            options.Backplane.Redis = redis;
        }

        var confD = options.ConfD is { } folder ? Path.Combine(directory, folder) : null;
        return new ServerSettings(
            options,
            Path.Combine(directory, Lwsws.LwswsDirectory.MainFile),
            confD,
            parse.GetValue(User) ?? options.User,
            parse.GetValue(Group) ?? options.Group,
            Lwsws.LwswsDirectory.ParseVhosts,
            unsupported);
    }

    private static LwsServerOptions EmbeddedDefault(ParseResult parse)
    {
        var vhost = new VhostOptions
        {
            Name = "localhost",
            Address = parse.GetValue(Interface)!,
            Port = parse.GetValue(Port),
            BindInterface = parse.GetValue(BindInterface),
            UnixSocket = parse.GetValue(UnixSocket) is { } socket ? Path.GetFullPath(socket) : null,
            // No protocols list: the default vhost serves every plugin in the plugins folder, live, as lws does.
            Mounts = [new MountOptions { MountPoint = "/", Origin = parse.GetValue(ResourcePath) is { } path ? Path.GetFullPath(path) : "www" }],
        };
        var errors = new List<string>();
        if (vhost.UnixSocket is not null && vhost.BindInterface)
        {
            errors.Add("-U/--unix-socket and -k/--bind-interface cannot be combined: a Unix socket has no interface.");
            vhost.BindInterface = false;
        }

        if (parse.GetValue(Ssl))
        {
            vhost.Tls = TlsFromCommandLine(parse, vhost.Name, errors);
        }
        else if (parse.GetValue(SslCert) is not null || parse.GetValue(SslKey) is not null || parse.GetValue(SslCa) is not null)
        {
            errors.Add("--ssl-cert, --ssl-key and --ssl-ca need -s/--ssl.");
        }

        if (errors.Count > 0)
        {
            throw new LwsConfigurationException(string.Join(" ", errors));
        }

        return new LwsServerOptions { Vhosts = [vhost] };
    }

    private static VhostTlsOptions TlsFromCommandLine(ParseResult parse, string vhost, List<string> errors)
    {
        var tls = new VhostTlsOptions { Certificate = parse.GetValue(SslCert)?.FullName, Key = parse.GetValue(SslKey)?.FullName };
        if (parse.GetValue(SslCa) is { } ca)
        {
            tls.Ca = ca.FullName;
            tls.ClientCertificate = TlsClientCertificateMode.Required;
        }

        if (tls.Certificate is null && tls.Key is null)
        {
            // lws's test server ships a test certificate; we make one for this run instead (never written to disk).
            tls.ServerCertificate = SelfSignedCertificate.Create(vhost, parse.GetValue(Interface)!, TimeProvider.System.GetUtcNow());
        }
        else if (tls.Certificate is null || tls.Key is null)
        {
            errors.Add("-s/--ssl: give both --ssl-cert and --ssl-key, or neither for a generated self-signed certificate.");
        }

        return tls;
    }
}
