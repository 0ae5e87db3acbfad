namespace LwsPlugins.Host.Configuration;

/// <summary>The server's configuration: where plugins live and the vhosts to create at start.</summary>
public sealed class LwsServerOptions
{
    /// <summary>The folder holding one sub-folder per plugin; relative paths are relative to the server's base directory.</summary>
    public string PluginsPath { get; set; } = "plugins";

    /// <summary>
    /// How long a destroyed vhost stays on the "being destroyed" list before what it owned is freed (lws: the deferred
    /// second part of <c>lws_vhost_destroy</c>); a listener no vhost uses any more is stopped then.
    /// </summary>
    public int DestroyDelayMs { get; set; } = 5000;

    /// <summary>
    /// A folder of vhost files (lwsws: <c>conf.d</c>), one vhost (or an array of vhosts) per file, watched while the
    /// server runs; relative to the configuration file's folder. None by default.
    /// </summary>
    public string? ConfD { get; set; }

    /// <summary>How long a client may take to send a request's headers (and so a WebSocket handshake) before the connection is closed.</summary>
    public int HandshakeTimeoutMs { get; set; } = 10_000;

    /// <summary>Whether the plugins folder is watched, so plugins added, changed or removed are (re)loaded while the server runs.</summary>
    public bool WatchPlugins { get; set; } = true;

    /// <summary>
    /// How long a plugin folder must be free of change notifications before its files are looked at (a build writes many
    /// files). Then it is reloaded as soon as it is ready: the same files, sizes and times across two looks
    /// <see cref="PluginReloadSettleMs"/> apart, its manifest and assemblies whole; a build still writing is not ready.
    /// </summary>
    public int PluginReloadDebounceMs { get; set; } = 50;

    /// <summary>The time between the two looks at a plugin folder that must agree before it is reloaded.</summary>
    public int PluginReloadSettleMs { get; set; } = 30;

    /// <summary>
    /// Minimum log levels by category prefix (<c>Default</c> for all others), e.g.
    /// <c>{ "Default": "Information", "LwsPlugins.Host.Sessions": "Debug" }</c>. The command line's <c>-d</c> overrides Default.
    /// </summary>
    public Dictionary<string, Microsoft.Extensions.Logging.LogLevel>? LogLevels { get; set; }

    /// <summary>OpenTelemetry OTLP export of the <c>LwsPlugins</c> and Kestrel meters; off (no exporter runs) when unset.</summary>
    public OtlpExportOptions? Otlp { get; set; }

    /// <summary>The fan-out backplane that carries groups (mirror instances) between servers; in-process unless Redis is configured.</summary>
    public BackplaneOptions Backplane { get; set; } = new();

    /// <summary>The in-memory cache of small static files (on by default).</summary>
    public StaticFileCacheOptions StaticFileCache { get; set; } = new();

    /// <summary>The admin HTTP API; off by default.</summary>
    public AdminApiOptions Admin { get; set; } = new();

    /// <summary>
    /// VFS providers (lws: the context's <c>fops</c>), each serving a .zip archive or a folder under a path prefix; a
    /// mount's <c>file://</c> origin is resolved through them, the longest matching prefix winning, and the platform
    /// file system serves the rest.
    /// </summary>
    public IList<FileProviderOptions> FileProviders { get; set; } = [];

    /// <summary>
    /// The user (a name, or a numeric id) the server drops to once every start-up listen socket is bound (lws: <c>uid</c>);
    /// the server must start as root. Its primary group is used unless <see cref="Group"/> is set. Off when unset.
    /// </summary>
    public string? User { get; set; }

    /// <summary>The group (a name, or a numeric id) the server drops to (lws: <c>gid</c>). Off when unset.</summary>
    public string? Group { get; set; }

    /// <summary>The numeric form of <see cref="User"/> (lws: <c>uid</c>); set one or the other.</summary>
    public int? Uid { get; set; }

    /// <summary>The numeric form of <see cref="Group"/> (lws: <c>gid</c>); set one or the other.</summary>
    public int? Gid { get; set; }

    /// <summary>The vhosts created at start, in order.</summary>
    public IList<VhostOptions> Vhosts { get; set; } = [];
}
