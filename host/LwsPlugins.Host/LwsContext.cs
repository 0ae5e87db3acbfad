using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using LwsPlugins.Host.Admin;
using LwsPlugins.Host.Backplane;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Listeners;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Plugins;
using LwsPlugins.Host.Plugins.Reload;
using LwsPlugins.Host.Privileges;
using LwsPlugins.Host.Status;
using LwsPlugins.Host.Vfs;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Status;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host;

/// <summary>
/// The engine's root (lws: <c>lws_context</c>): owns the plugin catalog, the listeners and the vhosts. Create it, call
/// <see cref="StartAsync"/>, and dispose it to stop everything.
/// </summary>
public sealed class LwsContext : IAsyncDisposable
{
    private readonly LwsServerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _baseDirectory;
    private readonly VhostTable _vhosts = new();
    private readonly ProtocolInstanceCounter _protocolInstances = new();
    private readonly ServerStatusSource _status;
    private readonly LwsMetrics _metrics;
    private readonly PrometheusMetrics _prometheus = new();
    private readonly VirtualFileSystem _vfs;
    private readonly List<IDisposable> _ownedFileProviders = [];
    private readonly ContextPrivileges _privileges = new();
    private readonly BackplaneBase _backplane;
    private readonly ProtocolInstanceFactory _protocols;
    private readonly ListenerRegistry _listeners;
    private readonly VhostLifecycle _lifecycle;
    private readonly PluginReloader _reloader;
    private PluginFolderWatcher? _watcher;
    private AdminApi? _admin;

    /// <summary>Creates the context; nothing is loaded or bound until <see cref="StartAsync"/>.</summary>
    /// <param name="options">The plugins folder and the vhosts to create at start.</param>
    /// <param name="loggerFactory">Where the engine and the plugins log.</param>
    /// <param name="timeProvider">The clock for the engine and the plugins.</param>
    /// <param name="baseDirectory">The folder relative paths are resolved against; the application's base directory by default.</param>
    /// <param name="meterFactory">Creates the <c>LwsPlugins</c> meter; without one the context makes its own.</param>
    public LwsContext(LwsServerOptions options, ILoggerFactory loggerFactory, TimeProvider timeProvider, string? baseDirectory = null, IMeterFactory? meterFactory = null)
        : this(options, loggerFactory, timeProvider, baseDirectory, meterFactory, bus: null)
    {
    }

    /// <summary>Creates a context whose in-process backplane is on <paramref name="bus"/> (tests and benchmarks join contexts with one).</summary>
    internal LwsContext(LwsServerOptions options, ILoggerFactory loggerFactory, TimeProvider timeProvider, string? baseDirectory, IMeterFactory? meterFactory, InProcessBus? bus)
    {
        ArgumentNullException.ThrowIfNull(options);
        _metrics = new LwsMetrics(meterFactory);
        _options = options;
        _loggerFactory = loggerFactory;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger("LwsPlugins.Host.LwsContext");
        _baseDirectory = baseDirectory ?? AppContext.BaseDirectory;
        _backplane = BackplaneFactory.Create(options.Backplane ?? new BackplaneOptions(), bus, timeProvider, loggerFactory);
        _protocols = new ProtocolInstanceFactory(loggerFactory, timeProvider, _backplane, _protocolInstances);
        Catalog = new PluginCatalog(Path.Combine(_baseDirectory, options.PluginsPath), timeProvider, loggerFactory, _protocols.CheckProtocol);
        _status = new ServerStatusSource(() => _vhosts.All, Catalog, timeProvider, _backplane.GetStatus);
        _protocols.Bind(Catalog, _status);
        _backplane.StateChanged = _status.NotifyChanged;
        _metrics.ObserveGenerations(ObserveGenerations);
        _metrics.ObserveBackplane(_backplane.GetStatus);
        _metrics.ObserveVhosts(() => _vhosts.All);
        Observability = new Observability(_prometheus, _status);
        if (options.Admin is { Enabled: true } || options.Vhosts.Any(v => v?.MetricsPath is not null))
        {
            Observability.StartMetrics();
        }

        var platform = new ConfinedPhysicalFileProvider("/");
        _ownedFileProviders.Add(platform);
        _vfs = new VirtualFileSystem(platform) { FileCache = new Vfs.StaticFiles.StaticFileCache(options.StaticFileCache, timeProvider) };
        _listeners = new ListenerRegistry(options, new ReadinessHealthCheck(this), _privileges, _baseDirectory, loggerFactory);
        _lifecycle = new VhostLifecycle(options, _vhosts, _listeners, _protocols, _vfs, Observability, _status, _metrics, _baseDirectory, timeProvider, loggerFactory);
        _reloader = new PluginReloader(Catalog, _vfs, _vhosts, _lifecycle, _protocols, _status, _metrics, loggerFactory);
        TaskScheduler.UnobservedTaskException += OnUnobservedTaskException;
    }

    /// <summary>
    /// A task nobody awaited faulted, typically a plugin's fire-and-forget work. .NET does not crash for it; the host
    /// reports it (with the assembly that threw) so the fault is not silent, and marks it observed.
    /// </summary>
    private void OnUnobservedTaskException(object? sender, UnobservedTaskExceptionEventArgs e)
    {
        var origin = e.Exception.InnerExceptions.Select(x => x.TargetSite?.DeclaringType?.Assembly.GetName().Name).FirstOrDefault(n => n is not null);
        Log.UnobservedTaskException(_logger, e.Exception, origin ?? "unknown");
        _metrics.UnobservedTaskExceptions.Add(1);
        e.SetObserved();
    }

    /// <summary>The server's status, as status protocols see it.</summary>
    public IServerStatusSource Status => _status;

    /// <summary>What <c>/metrics</c> and <c>/status</c> answer (admin API, a vhost's <c>metricsPath</c>/<c>statusPath</c>).</summary>
    internal Observability Observability { get; }

    /// <summary>The names of the vhosts serving now, in creation order.</summary>
    public IReadOnlyList<string> VhostNames => [.. _vhosts.Serving.Select(v => v.Name)];

    /// <summary>Where the admin API listens, when it is enabled and started.</summary>
    public IPEndPoint? AdminEndPoint => _admin?.EndPoint;

    internal PluginCatalog Catalog { get; }

    /// <summary>The VFS mounts' <c>file://</c> origins are resolved through.</summary>
    internal VirtualFileSystem Vfs => _vfs;

    /// <summary>
    /// Adds a VFS provider (lws: an entry of <c>fops</c>): VFS paths under <paramref name="prefix"/> are served by
    /// <paramref name="provider"/> when its prefix is the longest that matches. A <c>file://</c> mount resolves every
    /// request through the VFS, so it sees providers added later below its path; a mount whose origin matched no prefix
    /// when its vhost was created stays on the platform file system. The caller keeps ownership of the provider.
    /// </summary>
    /// <param name="prefix">The VFS path prefix, e.g. <c>/bundle</c>: starts with '/', no trailing '/'.</param>
    /// <param name="provider">The provider.</param>
    /// <exception cref="ArgumentException">The prefix is invalid or has a provider already.</exception>
    public void AddFileProvider(string prefix, IFileProvider provider) => _vfs.Add(prefix, provider);

    /// <summary>
    /// Drops the process from root to <paramref name="user"/> and <paramref name="group"/> (each a name or a numeric id;
    /// lws: <c>uid</c> / <c>gid</c>): setgroups, setgid, then setuid, for every thread. Call it once the start-up vhosts
    /// exist, so their listen sockets (privileged ports, device-bound sockets) and files are opened as root. From then
    /// on a vhost that needs a new privileged port is refused.
    /// </summary>
    /// <param name="user">The user, or <see langword="null"/> to keep the user (the group still changes).</param>
    /// <param name="group">The group, or <see langword="null"/> for the user's primary group.</param>
    /// <exception cref="LwsConfigurationException">No such user or group.</exception>
    /// <exception cref="Privileges.PrivilegeDropException">A call failed (not root, ...): the server must not go on.</exception>
    public void DropPrivileges(string? user, string? group)
    {
        var identity = _privileges.Drop(user, group);
        Log.PrivilegesDropped(_logger, identity.Uid ?? uint.MaxValue, identity.Gid, identity.UserName ?? "-", identity.GroupName);
    }

    /// <summary>The plugins folder's watcher, when plugins are watched.</summary>
    internal PluginFolderWatcher? Watcher => _watcher;

    /// <summary>Loads the plugins and creates the configured vhosts.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when every configured vhost is listening.</returns>
    /// <exception cref="LwsConfigurationException">A configured vhost is invalid; the message names the vhost and the key.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var backplaneErrors = BackplaneOptionsValidator.Validate(_options.Backplane);
        if (backplaneErrors.Count > 0)
        {
            throw new LwsConfigurationException(string.Join(" ", backplaneErrors));
        }

        // First, so a Redis that must be reachable (onStartFailure: fail) stops the start before anything listens.
        await _backplane.StartAsync(cancellationToken).ConfigureAwait(false);
        ConfiguredFileProviders.AddTo(_vfs, _options.FileProviders, _baseDirectory, _ownedFileProviders, _logger);
        Catalog.LoadAll();
        foreach (var plugin in Catalog.Plugins)
        {
            _reloader.SwitchFileProviders(plugin, null, plugin.Active);
        }

        if (_options.WatchPlugins)
        {
            _watcher = new PluginFolderWatcher(
                Catalog.PluginsPath,
                TimeSpan.FromMilliseconds(_options.PluginReloadDebounceMs),
                TimeSpan.FromMilliseconds(_options.PluginReloadSettleMs),
                _time,
                ReloadPluginAsync,
                () => Catalog.Plugins.Where(p => !p.Removed).Select(p => p.Id),
                _loggerFactory);
        }

        if (_options.Admin is { Enabled: true } admin)
        {
            await StartAdminApiAsync(admin, cancellationToken).ConfigureAwait(false);
        }

        foreach (var vhost in _options.Vhosts)
        {
            await CreateVhostAsync(vhost, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StartAdminApiAsync(AdminApiOptions admin, CancellationToken cancellationToken)
    {
        var errors = AdminApiOptionsValidator.Validate(admin);
        if (errors.Count > 0)
        {
            throw new LwsConfigurationException(string.Join(" ", errors));
        }

        var server = await _listeners.GetServerAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _admin = AdminApi.Start(admin, this, server, _loggerFactory);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new LwsConfigurationException($"admin: cannot listen on {admin.Address}:{admin.Port}: {ex.Message} ({ex.SocketErrorCode}).", ex);
        }

        Log.AdminApiStarted(_logger, _admin.EndPoint.ToString());
    }

    /// <summary>Creates a vhost while the server runs and starts serving it.</summary>
    /// <param name="options">The vhost.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>
    /// The endpoint the vhost listens on (with the real port when 0 was asked for); for a Unix-socket vhost
    /// (<see cref="VhostOptions.UnixSocket"/>) <see cref="IPAddress.None"/> port 0, as it has no IP endpoint
    /// (<see cref="GetListenAddress"/> names its socket).
    /// </returns>
    /// <exception cref="LwsConfigurationException">The options are invalid; the message names the vhost and the key.</exception>
    public async Task<IPEndPoint> CreateVhostAsync(VhostOptions options, CancellationToken cancellationToken)
        => await _lifecycle.CreateAsync(options, VhostSources.Api, cancellationToken).ConfigureAwait(false) as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);

    /// <summary>
    /// Applies the vhosts one source wants (the engine's one way to change vhosts; the configuration files and the admin
    /// API use it): every definition is validated first, then each vhost is created, changed or destroyed. A changed
    /// vhost whose endpoint stays is changed in place and keeps its sessions (protocol options: a new instance with the
    /// plugin's state handed over; mounts, limits, certificate: swapped); a new endpoint re-creates it, building the new
    /// vhost before the old one goes. A refused definition leaves what served before serving.
    /// </summary>
    /// <param name="source">Who wants the vhosts; a vhost of another source is never touched.</param>
    /// <param name="vhosts">The definitions.</param>
    /// <param name="mode">Create only, create or change, or the source's whole state (others destroyed).</param>
    /// <param name="cancellationToken">Cancels the waits for the engine's locks.</param>
    /// <returns>What was done to each vhost, with every refusal's message naming its vhost and key.</returns>
    public Task<VhostApplyResult> ApplyAsync(string source, IReadOnlyList<VhostOptions> vhosts, VhostApplyMode mode, CancellationToken cancellationToken)
        => _lifecycle.ApplyAsync(source, vhosts, mode, cancellationToken);

    /// <summary>
    /// Destroys a vhost while the server runs (lws: <c>lws_vhost_destroy</c>): it is unlisted at once, its sessions are
    /// closed with 1001, and it is freed after <see cref="LwsServerOptions.DestroyDelayMs"/>.
    /// </summary>
    /// <param name="name">The vhost's name.</param>
    /// <param name="cancellationToken">Cancels the wait for the lock.</param>
    /// <returns><see langword="false"/> when no vhost has that name.</returns>
    public Task<bool> DestroyVhostAsync(string name, CancellationToken cancellationToken)
        => _lifecycle.DestroyAsync(name, cancellationToken);

    /// <summary>The endpoint a vhost listens on, or <see langword="null"/> when no vhost has that name.</summary>
    /// <param name="name">The vhost's name.</param>
    /// <returns>The bound endpoint.</returns>
    public IPEndPoint? GetEndPoint(string name) => _vhosts.Find(name)?.EndPoint as IPEndPoint;

    /// <summary>Where a vhost listens, as the status shows it (<c>127.0.0.1:7681</c>, <c>unix:/run/lws.sock</c>), or <see langword="null"/>.</summary>
    /// <param name="name">The vhost's name.</param>
    /// <returns>The bound endpoint or socket path.</returns>
    public string? GetListenAddress(string name) => _vhosts.Find(name)?.EndPoint is { } endPoint ? ListenEndPoints.Display(endPoint) : null;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        TaskScheduler.UnobservedTaskException -= OnUnobservedTaskException;
        if (_watcher is not null)
        {
            await _watcher.DisposeAsync().ConfigureAwait(false);
        }

        if (_admin is not null)
        {
            await _admin.DisposeAsync().ConfigureAwait(false);
        }

        await _reloader.DisposeAsync().ConfigureAwait(false);
        await _lifecycle.DestroyAllAsync().ConfigureAwait(false);

        // Retiring instances end with their vhosts' sessions, which are all closed by now.
        await _protocols.Retirements.WhenAllAsync().ConfigureAwait(false);
        await _lifecycle.DisposeAsync().ConfigureAwait(false);
        await _listeners.DisposeAsync().ConfigureAwait(false);
        await _backplane.DisposeAsync().ConfigureAwait(false);
        await Catalog.DisposeAsync().ConfigureAwait(false);
        foreach (var provider in _ownedFileProviders)
        {
            provider.Dispose();
        }

        _prometheus.Dispose();
        _metrics.Dispose();
    }

    /// <summary>The fan-out backplane the context's protocol instances share.</summary>
    internal BackplaneBase Backplane => _backplane;

    /// <summary>The context's <c>LwsPlugins</c> meter (tests listen to it with a MetricCollector).</summary>
    internal Meter Meter => _metrics.Meter;

    private IEnumerable<Measurement<int>> ObserveGenerations()
        => Catalog.Plugins.SelectMany(p => p.Generations.GroupBy(g => g.State).Select(g => new Measurement<int>(
            g.Count(), new KeyValuePair<string, object?>("plugin", p.Id), new KeyValuePair<string, object?>("state", g.Key.ToString().ToLowerInvariant()))));

    /// <summary>Counts of what the context owns, for leak checks.</summary>
    internal ContextDiagnostics GetDiagnostics()
    {
        var vhosts = _vhosts.Current;
        return new ContextDiagnostics(
            Listeners: _listeners.Count,
            Vhosts: vhosts.Serving.Length,
            Destroying: vhosts.Destroying.Length,
            Sessions: vhosts.Serving.Sum(v => v.SessionCount) + vhosts.Destroying.Sum(v => v.SessionCount),
            ProtocolInstances: _protocolInstances.Live);
    }

    internal IReadOnlyList<Vhost> ServingVhosts() => _vhosts.Serving;

    internal Vhost? FindVhost(string name) => _vhosts.Find(name);

    /// <summary>Loads (or unloads) the plugin in one folder of the plugins path; see <see cref="PluginReloader"/>.</summary>
    internal Task<PluginChange?> ReloadPluginAsync(string directory) => _reloader.ReloadAsync(directory);

    /// <summary>Moves a plugin's VFS prefixes between generations (tests drive it directly).</summary>
    internal void SwitchFileProviders(PluginEntry entry, PluginGeneration? previous, PluginGeneration? next) => _reloader.SwitchFileProviders(entry, previous, next);
}
