using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Listeners;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Status;
using LwsPlugins.Host.Vfs;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// Creates vhosts and destroys them in two phases (lws: <c>lws_create_vhost</c>, <c>lws_vhost_destroy</c>), and
/// changes them (<see cref="ApplyAsync"/>, in VhostChanges.cs). Every change of the vhost table and the listeners runs under one gate;
/// what may take long (closing sessions, the destroy delay) runs outside it, so it never blocks other vhosts.
/// </summary>
internal sealed partial class VhostLifecycle(
    LwsServerOptions options,
    VhostTable table,
    ListenerRegistry listeners,
    ProtocolInstanceFactory protocols,
    VirtualFileSystem vfs,
    Observability observability,
    ServerStatusSource status,
    LwsMetrics metrics,
    string baseDirectory,
    TimeProvider time,
    ILoggerFactory loggerFactory) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<Vhost, ITimer> _destroyTimers = [];
    private readonly ILogger _logger = loggerFactory.CreateLogger("LwsPlugins.Host.LwsContext");

    /// <summary>Runs <paramref name="action"/> with the vhost table and the listeners held still (a plugin reload's switch).</summary>
    public async Task WithGateAsync(Action action, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            action();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Creates a vhost and starts serving it; <paramref name="source"/> is who asked (configuration, admin API, ...).</summary>
    /// <exception cref="LwsConfigurationException">The definition is invalid or cannot be served; the message names the vhost and the key.</exception>
    public async Task<EndPoint> CreateAsync(VhostOptions definition, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        try
        {
            ThrowIfInvalid(definition);
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (table.Find(definition.Name) is { } existing)
                {
                    throw new LwsConfigurationException($"vhost '{definition.Name}': name: a vhost of that name exists already{(existing.Source == source ? "" : $" ({existing.Source})")}.");
                }

                var vhost = await BuildAsync(definition, source, cancellationToken).ConfigureAwait(false);
                table.Add(vhost);
                Served(vhost);
                return vhost.EndPoint!;
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (LwsConfigurationException ex)
        {
            // Whoever asked (a file, conf.d, the admin API) hears why; the log says so too, for the operator.
            Log.VhostNotCreated(_logger, definition.Name, ex.Message);
            throw;
        }
    }

    private void ThrowIfInvalid(VhostOptions definition)
    {
        var errors = VhostOptionsValidator.Validate(definition, options.HandshakeTimeoutMs);
        if (errors.Count > 0)
        {
            throw new LwsConfigurationException(string.Join(" ", errors));
        }
    }

    private void Served(Vhost vhost)
    {
        if (vhost.Tls is { } tls)
        {
            Log.VhostCertificateLoaded(_logger, vhost.Name, tls.Certificate.Subject, tls.Certificate.Thumbprint, tls.Certificate.NotAfter);
        }

        Log.VhostCreated(_logger, vhost.Name, ListenEndPoints.Display(vhost.EndPoint!), string.Join(", ", vhost.Protocols.Select(p => p.Name)));
        metrics.VhostsCreated.Add(1);
        status.NotifyChanged();
    }

    /// <summary>
    /// Builds a vhost and attaches it to its listeners (a new listener accepts only once the vhost is attached, so its
    /// first connection finds the vhost and its certificate). Under the gate; the caller lists it. On failure nothing is
    /// left: the listeners it started are stopped, its instances disposed.
    /// </summary>
    private async Task<Vhost> BuildAsync(VhostOptions definition, string source, CancellationToken cancellationToken)
    {
        var device = definition.BindInterface ? definition.Address : null;
        if (device is not null)
        {
            InterfaceBinding.Validate(definition.Name, device);
        }

        var address = ListenAddressResolver.Resolve(definition.Name, definition.Address);
        var tls = definition.Tls is { } tlsOptions ? VhostTls.Load(definition.Name, tlsOptions, baseDirectory, time) : null;
        tls?.OffersHttp2 = definition.Http2;
        List<VhostProtocol> bindings;
        try
        {
            bindings = await protocols.CreateProtocolsAsync(definition).ConfigureAwait(false);
        }
        catch
        {
            tls?.Dispose();
            throw;
        }

        var vhost = new Vhost(definition, address, bindings, tls, time, loggerFactory, metrics, status.NotifyChanged) { Observability = observability, Source = source };
        Listener? listener = null;
        Listener? redirect = null;
        try
        {
            listener = await listeners.AttachAsync(
                listeners.ListenEndPoint(definition, address), definition.Name, definition.UnixSocket is null ? "port" : "unixSocket", tls is not null, device,
                attach: l =>
                {
                    vhost.UsePipeline(VhostHttpPipeline.Build(vhost, definition, vhost.Protocols, l.Services, baseDirectory, vfs, vhost.Logger));
                    l.Attach(vhost);
                },
                cancellationToken,
                (definition.UnixSocketMode, definition.UnixSocketOwner)).ConfigureAwait(false);
            vhost.Listening(listener.EndPoint);
            if (tls?.RedirectHttpPort is { } httpPort)
            {
                redirect = await listeners.AttachAsync(
                    new IPEndPoint(address, httpPort), definition.Name, "tls.redirectHttpPort", tls: false, device, attach: l => l.AttachRedirect(vhost), cancellationToken).ConfigureAwait(false);
                tls.RedirectEndPoint = (IPEndPoint)redirect.EndPoint;
                Log.VhostRedirectsToHttps(_logger, vhost.Name, redirect.Display);
            }

            return vhost;
        }
        catch
        {
            foreach (var used in new[] { listener, redirect })
            {
                if (used is not null)
                {
                    used.Detach(vhost);
                    await listeners.StopIfUnusedAsync(used.EndPoint).ConfigureAwait(false);
                }
            }

            await vhost.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Destroys a vhost while the server runs. Part 1, awaited here: the vhost is unlisted at once, a listener it owned
    /// that siblings still use is handed to one of them, its sessions are closed with 1001 and its HTTP requests drained
    /// (within its close timeout), and its protocol instances are disposed. Part 2, after the destroy delay: it leaves the
    /// "being destroyed" list, and a listener no vhost uses any more is stopped. Neither part blocks creating or
    /// destroying other vhosts, nor re-creating this one.
    /// </summary>
    public async Task<bool> DestroyAsync(string name, CancellationToken cancellationToken)
    {
        Vhost? vhost;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            vhost = table.Find(name);
            if (vhost is null)
            {
                return false;
            }

            table.Unlist(vhost);
            listeners.Detach(vhost);
        }
        finally
        {
            _gate.Release();
        }

        await StopAndScheduleFreeAsync(vhost).ConfigureAwait(false);
        return true;
    }

    /// <summary>Part 1's slow half, outside the gate, for a vhost already unlisted and detached; then part 2 is scheduled.</summary>
    private async Task StopAndScheduleFreeAsync(Vhost vhost)
    {
        var started = time.GetTimestamp();
        await vhost.StopAsync().ConfigureAwait(false);
        Log.VhostDestroying(_logger, vhost.Name, (long)time.GetElapsedTime(started).TotalMilliseconds, options.DestroyDelayMs);
        metrics.VhostsDestroyed.Add(1);
        status.NotifyChanged();
        var timer = time.CreateTimer(
            static state =>
            {
                var (lifecycle, destroyed) = ((VhostLifecycle, Vhost))state!;
                _ = lifecycle.FreeAsync(destroyed);
            },
            (this, vhost),
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _destroyTimers[vhost] = timer;
        }
        finally
        {
            _gate.Release();
        }

        timer.Change(TimeSpan.FromMilliseconds(options.DestroyDelayMs), Timeout.InfiniteTimeSpan);
    }

    /// <summary>Part 2 of a destruction; runs once per destroyed vhost, from its timer or from <see cref="DisposeAsync"/>.</summary>
    public async Task FreeAsync(Vhost vhost)
    {
        ITimer? timer;
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!table.Forget(vhost))
            {
                return;
            }

            _destroyTimers.Remove(vhost, out timer);
            await listeners.StopUnusedAsync(vhost).ConfigureAwait(false);
            await vhost.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        if (timer is not null)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }

        Log.VhostDestroyed(_logger, vhost.Name);
    }

    /// <summary>Destroys every vhost and frees it at once (the first step of the context's disposal).</summary>
    public async Task DestroyAllAsync()
    {
        foreach (var vhost in table.Serving)
        {
            await DestroyAsync(vhost.Name, CancellationToken.None).ConfigureAwait(false);
        }

        foreach (var vhost in table.Current.Destroying)
        {
            await FreeAsync(vhost).ConfigureAwait(false);
        }
    }

    /// <summary>Last: once nothing can ask for the gates any more (every vhost freed, every retirement ended).</summary>
    public async ValueTask DisposeAsync()
    {
        await DestroyAllAsync().ConfigureAwait(false);
        _gate.Dispose();
        _applyGate.Dispose();
    }
}
