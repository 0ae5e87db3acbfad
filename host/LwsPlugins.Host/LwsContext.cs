using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using LwsPlugins.Host.Admin;
using LwsPlugins.Host.Backplane;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Listeners;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Plugins;
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
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Vhost> _vhosts = [];
    private readonly List<Vhost> _destroying = [];
    private readonly ProtocolInstanceCounter _protocolInstances = new();
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly ConcurrentDictionary<Task, byte> _retirements = new();
    private PluginFolderWatcher? _watcher;
    private readonly Dictionary<EndPoint, Listener> _listeners = new(ListenEndPoints.Comparer);
    private readonly ServerStatusSource _status;
    private readonly LwsMetrics _metrics;
    private readonly PrometheusMetrics _prometheus = new();
    private readonly ReadinessHealthCheck _readiness;
    private AdminApi? _admin;
    private ServerServices? _server;
    private readonly VirtualFileSystem _vfs;
    private readonly List<IDisposable> _ownedFileProviders = [];
    private readonly ContextPrivileges _privileges = new();
    private readonly BackplaneBase _backplane;

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
        _metrics = new LwsMetrics(meterFactory);
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _loggerFactory = loggerFactory;
        _time = timeProvider;
        _logger = loggerFactory.CreateLogger("LwsPlugins.Host.LwsContext");
        _baseDirectory = baseDirectory ?? AppContext.BaseDirectory;
        Catalog = new PluginCatalog(Path.Combine(_baseDirectory, options.PluginsPath), timeProvider, loggerFactory, CheckProtocol);
        _backplane = CreateBackplane(options.Backplane ?? new BackplaneOptions(), bus);
        _status = new ServerStatusSource(SnapshotAllVhosts, Catalog, timeProvider, _backplane.GetStatus);
        _backplane.StateChanged = _status.NotifyChanged;
        _metrics.ObserveGenerations(ObserveGenerations);
        _metrics.ObserveBackplane(_backplane.GetStatus);
        _readiness = new ReadinessHealthCheck(this);
        Observability = new Observability(_prometheus, _status);
        var platform = new ConfinedPhysicalFileProvider("/");
        _ownedFileProviders.Add(platform);
        _vfs = new VirtualFileSystem(platform) { FileCache = new Vfs.StaticFiles.StaticFileCache(options.StaticFileCache, timeProvider) };
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
    public IReadOnlyList<string> VhostNames => [.. SnapshotVhosts().Select(v => v.Name)];

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
        AddConfiguredFileProviders();
        Catalog.LoadAll();
        foreach (var plugin in Catalog.Plugins)
        {
            SwitchFileProviders(plugin, null, plugin.Active);
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
            var errors = AdminApiOptionsValidator.Validate(admin);
            if (errors.Count > 0)
            {
                throw new LwsConfigurationException(string.Join(" ", errors));
            }

            var server = await GetServerAsync(cancellationToken).ConfigureAwait(false);
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

        foreach (var vhost in _options.Vhosts)
        {
            await CreateVhostAsync(vhost, cancellationToken).ConfigureAwait(false);
        }
    }

    private void AddConfiguredFileProviders()
    {
        var errors = FileProviderOptionsValidator.Validate(_options.FileProviders);
        if (errors.Count > 0)
        {
            throw new LwsConfigurationException(string.Join(" ", errors));
        }

        for (var i = 0; i < _options.FileProviders.Count; i++)
        {
            var options = _options.FileProviders[i];
            IFileProvider provider;
            if (options.Zip is { } zip)
            {
                var path = Path.GetFullPath(Path.Combine(_baseDirectory, zip));
                ZipFileProvider archive;
                try
                {
                    archive = new ZipFileProvider(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
                {
                    throw new LwsConfigurationException($"fileProviders[{i}].zip: cannot serve '{path}': {ex.Message}", ex);
                }

                if (archive.Skipped > 0)
                {
                    Log.ZipEntriesSkipped(_logger, path, archive.Skipped);
                }

                Log.FileProviderAdded(_logger, options.Prefix, "zip", path);
                provider = archive;
            }
            else
            {
                var folder = Path.GetFullPath(Path.Combine(_baseDirectory, options.Folder!));
                if (!Directory.Exists(folder))
                {
                    throw new LwsConfigurationException($"fileProviders[{i}].folder: folder '{folder}' does not exist.");
                }

                var physical = new ConfinedPhysicalFileProvider(folder);
                _ownedFileProviders.Add(physical);
                Log.FileProviderAdded(_logger, options.Prefix, "folder", folder);
                provider = physical;
            }

            _vfs.Add(options.Prefix, provider);
        }
    }

    /// <summary>Creates a vhost while the server runs and starts serving it.</summary>
    /// <param name="options">The vhost.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>
    /// The endpoint the vhost listens on (with the real port when 0 was asked for); for a Unix-socket vhost
    /// (<see cref="VhostOptions.UnixSocket"/>) <see cref="IPAddress.None"/> port 0, as it has no IP endpoint.
    /// </returns>
    /// <exception cref="LwsConfigurationException">The options are invalid; the message names the vhost and the key.</exception>
    public async Task<IPEndPoint> CreateVhostAsync(VhostOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            return await CreateVhostCoreAsync(options, cancellationToken).ConfigureAwait(false) as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        }
        catch (LwsConfigurationException ex)
        {
            // Whoever asked (a file, conf.d, the admin API) hears why; the log says so too, for the operator.
            Log.VhostNotCreated(_logger, options.Name, ex.Message);
            throw;
        }
    }

    private async Task<EndPoint> CreateVhostCoreAsync(VhostOptions options, CancellationToken cancellationToken)
    {
        var errors = VhostOptionsValidator.Validate(options);
        if (errors.Count > 0)
        {
            throw new LwsConfigurationException(string.Join(" ", errors));
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_vhosts.Exists(v => string.Equals(v.Name, options.Name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new LwsConfigurationException($"vhost '{options.Name}': name: a vhost of that name exists already.");
            }

            var device = options.BindInterface ? options.Address : null;
            if (device is not null)
            {
                InterfaceBinding.Validate(options.Name, device);
            }

            var address = ListenAddressResolver.Resolve(options.Name, options.Address);

            var tls = options.Tls is { } tlsOptions ? VhostTls.Load(options.Name, tlsOptions, _baseDirectory, _time) : null;
            tls?.OffersHttp2 = options.Http2;
            List<VhostProtocol> protocols;
            try
            {
                protocols = await CreateProtocolsAsync(options).ConfigureAwait(false);
            }
            catch
            {
                tls?.Dispose();
                throw;
            }

            var vhost = new Vhost(options, address, protocols, _time, _loggerFactory, _metrics, _status.NotifyChanged) { Tls = tls, Observability = Observability };
            Listener? listener = null;
            Listener? redirect = null;
            try
            {
                // The vhost is attached before a new listener accepts: its first connection already finds the vhost
                // (and, with TLS, its certificate by SNI).
                listener = await GetListenerAsync(
                    ListenEndPoint(options, address), options.Name, options.UnixSocket is null ? "port" : "unixSocket", tls is not null, device,
                    attach: l =>
                    {
                        vhost.BuildHttpPipeline(l.Services, _baseDirectory, _vfs);
                        l.Attach(vhost);
                    },
                    cancellationToken,
                    (options.UnixSocketMode, options.UnixSocketOwner)).ConfigureAwait(false);
                vhost.EndPoint = listener.EndPoint;
                if (tls?.RedirectHttpPort is { } httpPort)
                {
                    redirect = await GetListenerAsync(
                        new IPEndPoint(address, httpPort), options.Name, "tls.redirectHttpPort", tls: false, device, attach: l => l.AttachRedirect(vhost), cancellationToken).ConfigureAwait(false);
                }

                if (redirect is not null)
                {
                    tls!.RedirectEndPoint = (IPEndPoint)redirect.EndPoint;
                    Log.VhostRedirectsToHttps(_logger, vhost.Name, redirect.Display);
                }

                lock (_vhosts)
                {
                    _vhosts.Add(vhost);
                }

                if (tls is not null)
                {
                    Log.VhostCertificateLoaded(_logger, vhost.Name, tls.Certificate.Subject, tls.Certificate.Thumbprint, tls.Certificate.NotAfter);
                }

                Log.VhostCreated(_logger, vhost.Name, listener.Display, string.Join(", ", protocols.Select(p => p.Name)));
                _metrics.VhostsCreated.Add(1);
                _status.NotifyChanged();
                return listener.EndPoint;
            }
            catch
            {
                foreach (var used in new[] { listener, redirect })
                {
                    if (used is not null)
                    {
                        used.Detach(vhost);
                        await StopListenerIfUnusedAsync(used.EndPoint).ConfigureAwait(false);
                    }
                }

                await vhost.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Destroys a vhost while the server runs (lws: <c>lws_vhost_destroy</c>). Part 1, awaited here: the vhost is unlisted
    /// at once, a listener it owned that siblings still use is handed to one of them, its sessions are closed with 1001
    /// and its HTTP requests drained (within its close timeout), and its protocol instances are disposed. Part 2, after
    /// <see cref="LwsServerOptions.DestroyDelayMs"/>: it leaves the "being destroyed" list, and a listener no vhost uses
    /// any more is stopped. Neither part blocks creating or destroying other vhosts, nor re-creating this one.
    /// </summary>
    /// <param name="name">The vhost's name.</param>
    /// <param name="cancellationToken">Cancels the wait for the lock.</param>
    /// <returns><see langword="false"/> when no vhost has that name.</returns>
    public async Task<bool> DestroyVhostAsync(string name, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        Vhost? vhost;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            vhost = FindVhost(name);
            if (vhost is null)
            {
                return false;
            }

            lock (_vhosts)
            {
                _vhosts.Remove(vhost);
                _destroying.Add(vhost);
            }

            foreach (var key in Keys(vhost))
            {
                if (_listeners.TryGetValue(key, out var listener))
                {
                    var owned = listener.Owner == vhost;
                    listener.Detach(vhost);
                    if (owned && listener.Owner is { } heir)
                    {
                        Log.ListenerHandedOver(_logger, listener.Display, vhost.Name, heir.Name);
                    }
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        await vhost.StopAsync().ConfigureAwait(false);
        Log.VhostDestroying(_logger, vhost.Name, (long)_time.GetElapsedTime(started).TotalMilliseconds, _options.DestroyDelayMs);
        _metrics.VhostsDestroyed.Add(1);
        _status.NotifyChanged();
        vhost.DestroyTimer = _time.CreateTimer(
            static state =>
            {
                var (context, destroyed) = ((LwsContext, Vhost))state!;
                _ = context.FreeAsync(destroyed);
            },
            (this, vhost),
            TimeSpan.FromMilliseconds(_options.DestroyDelayMs),
            Timeout.InfiniteTimeSpan);
        return true;
    }

    /// <summary>Part 2 of a destruction; runs once per destroyed vhost, from its timer or from <see cref="DisposeAsync"/>.</summary>
    private async Task FreeAsync(Vhost vhost)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            lock (_vhosts)
            {
                if (!_destroying.Remove(vhost))
                {
                    return;
                }
            }

            foreach (var key in Keys(vhost))
            {
                await StopListenerIfUnusedAsync(key).ConfigureAwait(false);
            }

            await vhost.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        Log.VhostDestroyed(_logger, vhost.Name);
    }

    /// <summary>The endpoint a vhost listens on, or <see langword="null"/> when no vhost has that name.</summary>
    /// <param name="name">The vhost's name.</param>
    /// <returns>The bound endpoint.</returns>
    public IPEndPoint? GetEndPoint(string name)
        => SnapshotVhosts().FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase))?.EndPoint as IPEndPoint;

    /// <summary>Where a vhost listens, as the status shows it (<c>127.0.0.1:7681</c>, <c>unix:/run/lws.sock</c>), or <see langword="null"/>.</summary>
    /// <param name="name">The vhost's name.</param>
    /// <returns>The bound endpoint or socket path.</returns>
    public string? GetListenAddress(string name)
        => SnapshotVhosts().FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase))?.EndPoint is { } endPoint
            ? ListenEndPoints.Display(endPoint)
            : null;

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

        foreach (var name in VhostNames)
        {
            await DestroyVhostAsync(name, CancellationToken.None).ConfigureAwait(false);
        }

        Vhost[] destroying;
        lock (_vhosts)
        {
            destroying = [.. _destroying];
        }

        foreach (var vhost in destroying)
        {
            await FreeAsync(vhost).ConfigureAwait(false);
        }

        // Retiring instances end with their vhosts' sessions, which are all closed by now.
        await Task.WhenAll(_retirements.Keys).ConfigureAwait(false);

        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        await _backplane.DisposeAsync().ConfigureAwait(false);
        await Catalog.DisposeAsync().ConfigureAwait(false);
        foreach (var provider in _ownedFileProviders)
        {
            provider.Dispose();
        }

        _prometheus.Dispose();
        _metrics.Dispose();
        _gate.Dispose();
    }

    /// <summary>The fan-out backplane the context's protocol instances share.</summary>
    internal BackplaneBase Backplane => _backplane;

    /// <summary>The context's <c>LwsPlugins</c> meter (tests listen to it with a MetricCollector).</summary>
    internal Meter Meter => _metrics.Meter;

    private BackplaneBase CreateBackplane(BackplaneOptions options, InProcessBus? bus)
    {
        var logger = _loggerFactory.CreateLogger("LwsPlugins.Host.Backplane");
        if (options.Redis is not null && BackplaneOptionsValidator.Validate(options).Count == 0)
        {
            Log.BackplaneSelected(logger, $"Redis at {BackplaneOptionsValidator.Redact(options.Redis)}, channels prefixed '{options.ChannelPrefix}'");
            return new RedisBackplane(options, _time, logger);
        }

        Log.BackplaneSelected(logger, bus is null ? "in-process (set backplane.redis or --redis to span servers)" : "in-process, shared bus");
        return new InProcessBackplane(bus ?? new InProcessBus(), options.ChannelPrefix ?? "", Math.Max(1, options.PublishQueueLimit), _time, logger);
    }

    private IEnumerable<Measurement<int>> ObserveGenerations()
        => Catalog.Plugins.SelectMany(p => p.Generations.GroupBy(g => g.State).Select(g => new Measurement<int>(
            g.Count(), new KeyValuePair<string, object?>("plugin", p.Id), new KeyValuePair<string, object?>("state", g.Key.ToString().ToLowerInvariant()))));

    /// <summary>Counts of what the context owns, for leak checks.</summary>
    internal ContextDiagnostics GetDiagnostics()
    {
        lock (_vhosts)
        {
            return new ContextDiagnostics(
                Listeners: _listeners.Count,
                Vhosts: _vhosts.Count,
                Destroying: _destroying.Count,
                Sessions: _vhosts.Concat(_destroying).Sum(v => v.SessionCount),
                ProtocolInstances: _protocolInstances.Live);
        }
    }

    internal IReadOnlyList<Vhost> ServingVhosts() => SnapshotVhosts();

    internal Vhost? FindVhost(string name)
        => SnapshotVhosts().FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase));

    private async Task<List<VhostProtocol>> CreateProtocolsAsync(VhostOptions options)
    {
        var protocols = new List<VhostProtocol>();
        try
        {
            foreach (var selection in options.Protocols ?? [])
            {
                if (!selection.IsAllPlugins)
                {
                    protocols.Add(CreateProtocol(options.Name, selection, listed: true));
                }
            }

            if (options.ServesAllPlugins)
            {
                // A callback mount may name a protocol whose plugin has not arrived yet: it waits, unavailable, for it.
                foreach (var name in Catalog.ProtocolNames.Concat(options.CallbackProtocols).Distinct(StringComparer.Ordinal))
                {
                    if (!protocols.Exists(p => p.Name == name))
                    {
                        protocols.Add(CreateProtocol(options.Name, new ProtocolSelection(name), listed: false));
                    }
                }
            }
        }
        catch
        {
            foreach (var instance in protocols.SelectMany(p => p.Instances))
            {
                await instance.DisposeHandlerAsync().ConfigureAwait(false);
            }

            throw;
        }

        return protocols;
    }

    /// <summary>
    /// A vhost's binding of one protocol: an instance of the active generation, or unavailable with the reason. Options a
    /// listed protocol's vhost entry gives that do not bind fail the vhost (its configuration is wrong); a protocol served
    /// because the vhost serves every plugin has only its manifest's defaults, already checked when it loaded.
    /// </summary>
    private VhostProtocol CreateProtocol(string vhostName, ProtocolSelection selection, bool listed)
    {
        if (!Catalog.TryGetProtocol(selection.Name, out var export))
        {
            var reason = Catalog.GetUnavailableReason(selection.Name);
            Log.ProtocolUnavailable(_logger, vhostName, selection.Name, reason);
            return new VhostProtocol(selection.Name, selection.Options, null, reason, listed);
        }

        try
        {
            return new VhostProtocol(selection.Name, selection.Options, CreateInstance(vhostName, selection.Name, selection.Options, export), null, listed);
        }
        catch (ProtocolOptionsException ex) when (listed)
        {
            var message = ex.Message.StartsWith($"vhost '{vhostName}'", StringComparison.Ordinal) ? ex.Message : $"vhost '{vhostName}': protocols.{selection.Name}: {ex.Message}";
            throw new LwsConfigurationException(message, ex);
        }
        catch (Exception ex)
        {
            Log.ProtocolCreateFailed(_logger, ex, vhostName, export.Generation.PluginId, selection.Name);
            return new VhostProtocol(selection.Name, selection.Options, null, $"plugin '{export.Generation.PluginId}' failed to create it: {ex.Message}", listed);
        }
    }

    /// <summary>
    /// The catalog's check of a new generation: binds and validates the protocol's options from the manifest's defaults
    /// alone, as a vhost serving every plugin would create it, without creating a handler. Returns why they fail.
    /// </summary>
    private string? CheckProtocol(ProtocolExport export)
    {
        if (export.Plugin is not IProtocolOptionsValidator validator)
        {
            return null;
        }

        var context = new ProtocolContext(
            ProtocolCheckVhost, export.Name, export.Generation.PluginId, export.DefaultOptions, null, _loggerFactory, _time, _status,
            defaultOptionsSource: DefaultOptionsSource(export));
        try
        {
            validator.ValidateOptions(context);
            return null;
        }
        catch (ProtocolOptionsException ex)
        {
            return ex.Message;
        }
        catch (Exception ex)
        {
            return $"the plugin cannot check the protocol's default options: {ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>Where a protocol's default options are written, for messages: the manifest file and the key.</summary>
    private static string? DefaultOptionsSource(ProtocolExport export)
        => export.Generation.Manifest is { } manifest
            ? $"{manifest.FilePath}: protocols[{manifest.Protocols.ToList().FindIndex(p => p.Name == export.Name)}].options"
            : null;

    /// <summary>The vhost name a plugin's options validation sees while its new generation is checked.</summary>
    private const string ProtocolCheckVhost = "(plugin load check)";

    /// <summary>
    /// Brings a vhost that serves every plugin in line with the catalog: a protocol the catalog gained is added (served,
    /// or unavailable with its plugin's failure), and one whose plugin is gone leaves once its last instance retired.
    /// Called under <see cref="_gate"/>.
    /// </summary>
    private void SyncAllPluginProtocols(Vhost vhost)
    {
        if (!vhost.Options.ServesAllPlugins)
        {
            return;
        }

        var names = Catalog.ProtocolNames;
        foreach (var name in names)
        {
            if (!vhost.Protocols.Any(p => p.Name == name))
            {
                var protocol = CreateProtocol(vhost.Name, new ProtocolSelection(name), listed: false);
                vhost.AddProtocol(protocol);
                Log.VhostServesPluginProtocol(_logger, vhost.Name, name, protocol.IsAvailable ? $"plugin '{protocol.PluginId}' generation {protocol.Generation}" : protocol.UnavailableReason!);
            }
        }

        var callbackProtocols = vhost.Options.CallbackProtocols.ToHashSet(StringComparer.Ordinal);
        foreach (var protocol in vhost.Protocols)
        {
            if (!protocol.Listed && !protocol.IsAvailable && protocol.Instances.Count == 0 && !names.Contains(protocol.Name) && !callbackProtocols.Contains(protocol.Name))
            {
                vhost.RemoveProtocol(protocol);
                Log.VhostStoppedServingPluginProtocol(_logger, vhost.Name, protocol.Name);
            }
        }
    }

    /// <summary>Creates a vhost's instance of a protocol from one plugin generation (lws: PROTOCOL_INIT).</summary>
    private ProtocolInstance CreateInstance(string vhostName, string protocolName, JsonElement? options, ProtocolExport export)
    {
        // What the instance gets that must not outlive it (timers, status subscriptions) is disposed with it.
        var time = new InstanceTimeProvider(_time);
        var status = new InstanceStatusSource(_status);
        var backplane = new InstanceBackplane(_backplane, vhostName, protocolName);
        var owned = new OwnedResources(time, status, backplane);
        var context = new ProtocolContext(
            vhostName, protocolName, export.Generation.PluginId, export.DefaultOptions, options, _loggerFactory, time, status, backplane,
            defaultOptionsSource: DefaultOptionsSource(export));
        try
        {
            return new ProtocolInstance(export, export.Plugin.CreateHandler(context), _protocolInstances, owned);
        }
        catch
        {
            // What the failed constructor left (timers, subscriptions) is released without blocking; the context's
            // disposal waits for it as for a retirement.
            Track(owned.DisposeAsync().AsTask());
            throw;
        }
    }

    /// <summary>
    /// Loads (or unloads) the plugin in one folder of the plugins path and moves every vhost that serves its protocols to
    /// the new generation; the old generation drains per each vhost's policy and unloads when its last instance goes.
    /// A folder whose files did not change, or whose new files fail to load, changes nothing.
    /// </summary>
    internal async Task<PluginChange?> ReloadPluginAsync(string directory)
    {
        await _reloadGate.WaitAsync().ConfigureAwait(false);
        try
        {
            var change = Directory.Exists(directory) ? Catalog.Load(directory) : Catalog.Remove(directory);
            if (change is not null)
            {
                var result = change.Next is null ? "removed" : change.Next.State == PluginGenerationState.Failed ? "failed" : "loaded";
                _metrics.PluginReloads.Add(1, new("plugin", change.Entry.Id), new("result", result));
            }

            if (change is { SwitchesGeneration: true })
            {
                SwitchFileProviders(change.Entry, change.Previous, change.Next);
            }

            if (change is null)
            {
                return change;
            }

            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                foreach (var vhost in SnapshotVhosts())
                {
                    if (change.SwitchesGeneration)
                    {
                        foreach (var protocol in vhost.Protocols)
                        {
                            SwitchGeneration(vhost, protocol, change);
                        }
                    }

                    SyncAllPluginProtocols(vhost);
                }
            }
            finally
            {
                _gate.Release();
            }

            if (!change.SwitchesGeneration)
            {
                _status.NotifyChanged();
                return change;
            }

            if (change.Previous is { } previous)
            {
                await previous.RetireAsync().ConfigureAwait(false);
            }

            _status.NotifyChanged();
            return change;
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>
    /// Moves the VFS prefixes of a plugin from its previous generation's providers to the next one's, each prefix in one
    /// step (no request sees it missing in between); prefixes the next generation no longer exports stop being served.
    /// </summary>
    private void SwitchFileProviders(PluginEntry entry, PluginGeneration? previous, PluginGeneration? next)
    {
        var nextProviders = next is { State: PluginGenerationState.Active } ? next.FileProviders : new Dictionary<string, IFileProvider>();
        foreach (var (prefix, provider) in previous?.FileProviders ?? new Dictionary<string, IFileProvider>())
        {
            if (!nextProviders.ContainsKey(prefix))
            {
                _vfs.Exchange(prefix, provider, null);
            }
        }

        foreach (var (prefix, provider) in nextProviders)
        {
            if (_vfs.Exchange(prefix, previous?.FileProviders.GetValueOrDefault(prefix), provider))
            {
                Log.PluginFileProviderServed(_logger, entry.Id, next!.Number, prefix);
            }
            else
            {
                Log.PluginFileProviderConflict(_logger, entry.Id, prefix);
            }
        }
    }

    private void SwitchGeneration(Vhost vhost, VhostProtocol protocol, PluginChange change)
    {
        ProtocolExport? export = null;
        var provides = change.Next?.Protocols.TryGetValue(protocol.Name, out export) == true;
        if (!provides && protocol.PluginId != change.Entry.Id)
        {
            return;
        }

        ProtocolInstance? next = null;
        string? reason = null;
        if (export is not null)
        {
            try
            {
                next = CreateInstance(vhost.Name, protocol.Name, protocol.Options, export);
            }
            catch (Exception ex)
            {
                // The new code cannot serve this vhost (bad options, a throwing constructor): the old instance stays.
                Log.ProtocolCreateFailed(_logger, ex, vhost.Name, change.Entry.Id, protocol.Name);
                return;
            }
        }
        else
        {
            reason = $"plugin '{change.Entry.Id}' was removed.";
        }

        var policy = vhost.Options.ReloadPolicy ?? (change.Next ?? change.Previous)?.Manifest?.ReloadPolicy ?? PluginReloadPolicy.Drain;
        Log.ProtocolReloaded(_logger, vhost.Name, protocol.Name, change.Entry.Id, next?.Generation ?? 0, policy.ToString().ToLowerInvariant());
        Track(ReplaceInstanceAsync(vhost, protocol, next, reason, policy));
    }

    /// <summary>Replaces the vhost's instance; a protocol left with no plugin and no instance then leaves a vhost serving every plugin.</summary>
    private async Task ReplaceInstanceAsync(Vhost vhost, VhostProtocol protocol, ProtocolInstance? next, string? reason, PluginReloadPolicy policy)
    {
        await vhost.ReplaceInstanceAsync(protocol, next, reason, policy).ConfigureAwait(false);
        if (next is null && !protocol.Listed && vhost.State == VhostState.Serving)
        {
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                SyncAllPluginProtocols(vhost);
            }
            finally
            {
                _gate.Release();
            }

            _status.NotifyChanged();
        }
    }

    private void Track(Task retirement)
    {
        _retirements.TryAdd(retirement, 0);
        _ = retirement.ContinueWith(static (task, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(task, out _), _retirements, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The listener for <paramref name="endPoint"/>, shared or new, with <paramref name="attach"/> applied (to a new one before it accepts).</summary>
    private async Task<Listener> GetListenerAsync(
        EndPoint endPoint, string vhost, string key, bool tls, string? device, Action<Listener> attach, CancellationToken cancellationToken,
        (string? Mode, string? Owner) unixFile = default)
    {
        // Port 0 asks for a fresh port: such a vhost never shares its listener.
        if (endPoint is not IPEndPoint { Port: 0 } && _listeners.TryGetValue(endPoint, out var existing))
        {
            // TLS and the bound device are part of the endpoint's identity: one socket cannot be both.
            if (existing.IsTls != tls)
            {
                throw new LwsConfigurationException(
                    $"vhost '{vhost}': {(key == "port" ? "tls" : key)}: {endPoint} is served {(existing.IsTls ? "with" : "without")} TLS by vhost '{existing.Owner?.Name}'; vhosts sharing a port must all use TLS or all not.");
            }

            if (!string.Equals(existing.Device, device, StringComparison.Ordinal))
            {
                throw new LwsConfigurationException(
                    $"vhost '{vhost}': bindInterface: {endPoint} is served by vhost '{existing.Owner?.Name}' {(existing.Device is null ? "without binding to a device" : $"bound to interface '{existing.Device}'")}; vhosts sharing a port must bind to the same interface.");
            }

            attach(existing);
            return existing;
        }

        if (_privileges.DroppedTo is { } dropped && endPoint is IPEndPoint { Port: > 0 } ip && ip.Port < PrivilegedPorts.UnprivilegedPortStart)
        {
            throw new LwsConfigurationException(
                $"vhost '{vhost}': {key}: {ip.Port} is a privileged port (below {PrivilegedPorts.UnprivilegedPortStart}), which needs root, and the server dropped to {dropped} after start; only the start-up configuration can open it.");
        }

        var server = await GetServerAsync(cancellationToken).ConfigureAwait(false);
        Listener listener;
        try
        {
            listener = Listener.Start(server, endPoint, tls, device, vhost, _loggerFactory, attach, unixFile);
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: cannot listen on {endPoint}: address already in use (another process listens there).", ex);
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AccessDenied)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: cannot listen on {endPoint}: permission denied{(endPoint is IPEndPoint ip2 && ip2.Port < PrivilegedPorts.UnprivilegedPortStart ? $" (ports below {PrivilegedPorts.UnprivilegedPortStart} need root)" : "")}.", ex);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: cannot listen on {endPoint}: {ex.Message} ({ex.SocketErrorCode}).", ex);
        }

        lock (_vhosts)
        {
            _listeners.Add(listener.EndPoint, listener);
        }

        return listener;
    }

    /// <summary>The services every listener shares, started with the first listener (or the admin API).</summary>
    private async ValueTask<ServerServices> GetServerAsync(CancellationToken cancellationToken)
        => _server ??= await ServerServices.StartAsync(
            _loggerFactory, _readiness, TimeSpan.FromMilliseconds(_options.HandshakeTimeoutMs), cancellationToken).ConfigureAwait(false);

    private async Task StopListenerIfUnusedAsync(EndPoint key)
    {
        if (_listeners.TryGetValue(key, out var listener) && listener.Vhosts.IsEmpty)
        {
            lock (_vhosts)
            {
                _listeners.Remove(key);
            }

            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A vhost's Unix socket (its path against the server's folder), else its address and port.</summary>
    private EndPoint ListenEndPoint(VhostOptions options, IPAddress address)
        => options.UnixSocket is { } path ? new UnixDomainSocketEndPoint(Path.GetFullPath(path, _baseDirectory)) : new IPEndPoint(address, options.Port);

    private IEnumerable<EndPoint> Keys(Vhost vhost)
    {
        yield return vhost.EndPoint ?? ListenEndPoint(vhost.Options, vhost.Address);
        if (vhost.Tls?.RedirectEndPoint is { } redirect)
        {
            yield return redirect;
        }
    }

    private List<Vhost> SnapshotAllVhosts()
    {
        lock (_vhosts)
        {
            return [.. _vhosts, .. _destroying];
        }
    }

    private List<Vhost> SnapshotVhosts()
    {
        lock (_vhosts)
        {
            return [.. _vhosts];
        }
    }
}
