using System.Net;
using System.Net.Sockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Privileges;
using LwsPlugins.Host.Vhosts;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// The context's listeners by endpoint: a vhost naming an endpoint in use shares its listener (same TLS setting and
/// device, or it is refused), one naming a new endpoint starts one on the shared server services, started with the first
/// listener. A listener is owned by its first vhost and handed to the next when that one goes; it stops when its last
/// vhost is freed. Called under the vhost lifecycle's gate.
/// </summary>
internal sealed class ListenerRegistry(
    LwsServerOptions options, ReadinessHealthCheck readiness, ContextPrivileges privileges, string baseDirectory, ILoggerFactory loggerFactory) : IAsyncDisposable
{
    private readonly Dictionary<EndPoint, Listener> _listeners = new(ListenEndPoints.Comparer);
    private readonly Lock _gate = new();
    private readonly ILogger _logger = loggerFactory.CreateLogger("LwsPlugins.Host.LwsContext");
    private ServerServices? _server;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _listeners.Count;
            }
        }
    }

    /// <summary>A definition's listen endpoint: its Unix socket (the path against the server's folder), else its address and port.</summary>
    public EndPoint ListenEndPoint(VhostOptions definition, IPAddress address)
        => definition.UnixSocket is { } path ? new UnixDomainSocketEndPoint(Path.GetFullPath(path, baseDirectory)) : new IPEndPoint(address, definition.Port);

    /// <summary>The endpoints a vhost uses: its own and, with TLS, its HTTP redirect port's.</summary>
    public IEnumerable<EndPoint> KeysOf(Vhost vhost)
    {
        yield return vhost.EndPoint ?? ListenEndPoint(vhost.Options, vhost.Address);
        if (vhost.Tls?.RedirectEndPoint is { } redirect)
        {
            yield return redirect;
        }
    }

    /// <summary>The listener of an endpoint in use, if any (port 0 never matches: it asks for a fresh port).</summary>
    public Listener? Find(EndPoint endPoint)
    {
        lock (_gate)
        {
            return endPoint is not IPEndPoint { Port: 0 } ? _listeners.GetValueOrDefault(endPoint) : null;
        }
    }

    /// <summary>The services every listener shares, started with the first listener (or the admin API).</summary>
    public async ValueTask<ServerServices> GetServerAsync(CancellationToken cancellationToken)
        => _server ??= await ServerServices.StartAsync(
            loggerFactory, readiness, TimeSpan.FromMilliseconds(options.HandshakeTimeoutMs), cancellationToken).ConfigureAwait(false);

    /// <summary>The listener for <paramref name="endPoint"/>, shared or new, with <paramref name="attach"/> applied (to a new one before it accepts).</summary>
    /// <exception cref="LwsConfigurationException">The endpoint is served with another TLS setting or device, is privileged after the drop, or cannot be bound.</exception>
    public async Task<Listener> AttachAsync(
        EndPoint endPoint, string vhost, string key, bool tls, string? device, Action<Listener> attach, CancellationToken cancellationToken,
        (string? Mode, string? Owner) unixFile = default)
    {
        if (Find(endPoint) is { Vhosts.IsEmpty: true } unused && (unused.IsTls != tls || !string.Equals(unused.Device, device, StringComparison.Ordinal)))
        {
            // Its last vhost is being destroyed (part 2 pending) and the new one needs the socket otherwise: it goes now.
            await StopIfUnusedAsync(endPoint).ConfigureAwait(false);
        }

        if (Find(endPoint) is { } existing)
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

        if (privileges.DroppedTo is { } dropped && endPoint is IPEndPoint { Port: > 0 } ip && ip.Port < PrivilegedPorts.UnprivilegedPortStart)
        {
            throw new LwsConfigurationException(
                $"vhost '{vhost}': {key}: {ip.Port} is a privileged port (below {PrivilegedPorts.UnprivilegedPortStart}), which needs root, and the server dropped to {dropped} after start; only the start-up configuration can open it.");
        }

        var server = await GetServerAsync(cancellationToken).ConfigureAwait(false);
        Listener listener;
        try
        {
            listener = Listener.Start(server, endPoint, tls, device, vhost, loggerFactory, attach, unixFile);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: cannot listen on {endPoint}: address already in use (another process listens there).", ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: cannot listen on {endPoint}: permission denied{(endPoint is IPEndPoint ip2 && ip2.Port < PrivilegedPorts.UnprivilegedPortStart ? $" (ports below {PrivilegedPorts.UnprivilegedPortStart} need root)" : "")}.", ex);
        }
        catch (SocketException ex)
        {
            throw new LwsConfigurationException($"vhost '{vhost}': {key}: cannot listen on {endPoint}: {ex.Message} ({ex.SocketErrorCode}).", ex);
        }

        lock (_gate)
        {
            _listeners.Add(listener.EndPoint, listener);
        }

        return listener;
    }

    /// <summary>Takes a vhost out of its listeners' routing tables; a listener it owned goes to the next vhost in line.</summary>
    public void Detach(Vhost vhost)
    {
        foreach (var key in KeysOf(vhost))
        {
            Listener? listener;
            lock (_gate)
            {
                listener = _listeners.GetValueOrDefault(key);
            }

            if (listener is null)
            {
                continue;
            }

            var owned = listener.Owner == vhost;
            listener.Detach(vhost);
            if (owned && listener.Owner is { } heir)
            {
                Log.ListenerHandedOver(_logger, listener.Display, vhost.Name, heir.Name);
            }
        }
    }

    /// <summary>Stops the listeners of <paramref name="vhost"/> that no vhost uses any more.</summary>
    public async Task StopUnusedAsync(Vhost vhost)
    {
        foreach (var key in KeysOf(vhost))
        {
            await StopIfUnusedAsync(key).ConfigureAwait(false);
        }
    }

    public async Task StopIfUnusedAsync(EndPoint key)
    {
        Listener? listener;
        lock (_gate)
        {
            if (!_listeners.TryGetValue(key, out listener) || !listener.Vhosts.IsEmpty)
            {
                return;
            }

            _listeners.Remove(key);
        }

        await listener.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
