using System.CommandLine;
using System.Globalization;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Server;

/// <summary>lws test-server style options, and the configuration they produce.</summary>
internal static partial class ServerCommandLine
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

    public static readonly Option<bool> RedisFailFast = new("--redis-fail-fast")
    {
        Description = "Do not start when Redis (--redis or backplane.redis) cannot be reached (backplane.onStartFailure \"fail\"); by default the server serves local members and connects once Redis is up.",
    };

    public static RootCommand CreateRootCommand()
        => new("LwsPlugins: a WebSocket server whose protocols are plugins, wire-compatible with libwebsockets' test server.")
        {
            Port, Interface, BindInterface, UnixSocket, Ssl, SslCert, SslKey, SslCa, ResourcePath, Config, LwswsConfig, Plugins, User, Group, LogLevelOption,
            Redis, RedisFailFast, LogFormat,
        };

    /// <summary>
    /// A command line that does not parse, in one line (the parser's own answer is the whole help text and exit code 1):
    /// each error, a value that is not of its option's type said in words, then where the options are listed.
    /// </summary>
    public static string DescribeErrors(ParseResult parse)
    {
        var errors = parse.Errors.Select(e => CannotParse().Match(e.Message) is { Success: true } m
            ? $"{m.Groups["option"].Value}: must be {Expected(m.Groups["type"].Value)}, was '{m.Groups["value"].Value}'"
            : Named(e, string.Join(' ', e.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.')));
        return string.Join("; ", errors.Distinct()) + " (see --help).";

        // A value outside an option's list ("Argument 'xml' not recognized ...") does not say which option it was for.
        static string Named(System.CommandLine.Parsing.ParseError error, string message)
            => error.SymbolResult is System.CommandLine.Parsing.OptionResult option && !message.Contains(option.Option.Name, StringComparison.Ordinal)
                ? $"{option.Option.Name}: {message}"
                : error.SymbolResult?.Parent is System.CommandLine.Parsing.OptionResult parent && !message.Contains(parent.Option.Name, StringComparison.Ordinal)
                    ? $"{parent.Option.Name}: {message}"
                    : message;

        static string Expected(string type) => type switch
        {
            "System.Int32" => "a whole number",
            "System.Boolean" => "true or false",
            "Microsoft.Extensions.Logging.LogLevel" => "one of " + string.Join(", ", Enum.GetNames<LogLevel>()),
            _ => "a valid value",
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex("^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial System.Text.RegularExpressions.Regex CannotParse();

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

        if (parse.GetValue(RedisFailFast))
        {
            if (options.Backplane.Redis is null)
            {
                throw new LwsConfigurationException(
                    "--redis-fail-fast needs a Redis backplane: give --redis, or backplane.redis in the configuration file.");
            }

            options.Backplane.OnStartFailure = BackplaneStartFailure.Fail;
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
            new Lwsws.LwswsLiveFiles(unsupported));
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
