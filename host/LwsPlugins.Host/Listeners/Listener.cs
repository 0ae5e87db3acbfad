using System.Collections.Immutable;
using System.Net;
using System.Net.Security;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Host.Vhosts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// One listen endpoint (address + port, with or without TLS, optionally bound to a device) shared by the vhosts that
/// name it: a <see cref="ListenSocket"/> served by the shared server, and the routing table of its vhosts. A request goes
/// to the vhost its Host header names, else to the endpoint's first vhost that serves there (a TLS vhost attached to a
/// plain endpoint only for its HTTPS redirect gets the requests that name it, or all when it is alone). On a TLS
/// endpoint the certificate is the one of the vhost the client names by SNI (the first vhost's when it names none),
/// looked up in the current routing table, so it comes and goes with the vhost; a request goes to the vhost of its
/// connection unless its Host header names another vhost of the endpoint, which gets 421.
/// </summary>
internal sealed class Listener : IAsyncDisposable
{
    private readonly ServerServices _server;
    private readonly ILogger _logger;
    private ListenSocket _socket = null!;
    private ImmutableArray<Vhost> _vhosts = [];

    private Listener(ServerServices server, bool isTls, string? device, ILogger logger)
    {
        _server = server;
        IsTls = isTls;
        Device = device;
        _logger = logger;
    }

    /// <summary>The bound endpoint (with the real port when 0 was asked for), or a Unix socket's path.</summary>
    public EndPoint EndPoint => _socket.EndPoint;

    /// <summary>The endpoint as logs and the status show it: <c>127.0.0.1:7681</c>, <c>unix:/run/lws.sock</c>.</summary>
    public string Display => ListenEndPoints.Display(EndPoint);

    /// <summary>Whether the listener speaks TLS; a TLS vhost and a plain one never share a listener.</summary>
    public bool IsTls { get; }

    /// <summary>The device the listen socket is bound to (SO_BINDTODEVICE), if any.</summary>
    public string? Device { get; }

    /// <summary>The services the vhosts' HTTP pipelines are built from (shared by every listener).</summary>
    public IServiceProvider Services => _server.Services;

    public ImmutableArray<Vhost> Vhosts => _vhosts;

    /// <summary>Connections accepted on this endpoint and not yet closed.</summary>
    public int OpenConnections => _socket.OpenConnections;

    /// <summary>The vhost the listener belongs to: the first attached; when it goes, the next in line takes it over.</summary>
    public Vhost? Owner
    {
        get
        {
            var vhosts = _vhosts;
            return vhosts.IsEmpty ? null : vhosts[0];
        }
    }

    /// <summary>
    /// Starts a listener; <paramref name="vhost"/> (the first to use it) is named in binding errors.
    /// <paramref name="beforeAccepting"/> runs before the socket is bound, so the first vhost (its routing, its TLS
    /// certificate) is in place for the very first connection.
    /// </summary>
    public static Listener Start(
        ServerServices server,
        EndPoint requested,
        bool tls,
        string? device,
        string vhost,
        ILoggerFactory loggerFactory,
        Action<Listener> beforeAccepting,
        (string? Mode, string? Owner) unixFile = default)
    {
        var listener = new Listener(server, tls, device, loggerFactory.CreateLogger("LwsPlugins.Host.Listeners.Listener"));
        var app = new ApplicationBuilder(server.Services);
        app.Use((context, next) =>
        {
            // Frame checks the WebSocket implementation leaves out, with the limit of the vhost the request goes to.
            if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade && listener.Route(context) is { } vhost)
            {
                var lifetime = context.Features.Get<IHttpRequestLifetimeFeature>();
                var upgraded = new UpgradedConnectionLifetime(upgrade, lifetime, vhost.Options.MaxMessageSize);
                context.Features.Set<IHttpUpgradeFeature>(upgraded);
                if (lifetime is not null)
                {
                    context.Features.Set<IHttpRequestLifetimeFeature>(upgraded);
                }
            }
            else if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect && listener.Route(context) is { } h2Vhost)
            {
                // The same checks on a WebSocket over an HTTP/2 stream (RFC 8441).
                var lifetime = context.Features.Get<IHttpRequestLifetimeFeature>();
                var guarded = new UpgradedConnectionLifetime(null, lifetime, h2Vhost.Options.MaxMessageSize, connect);
                context.Features.Set<IHttpExtendedConnectFeature>(guarded);
                if (lifetime is not null)
                {
                    context.Features.Set<IHttpRequestLifetimeFeature>(guarded);
                }
            }

            return next(context);
        });
        app.UseWebSockets();
        app.Run(listener.RouteAsync);
        var application = app.Build();

        beforeAccepting(listener);
        listener._socket = ListenSocket.Start(server, requested, device, vhost, application, tls ? listener.SelectTls : null, listener.RouteUpgrade, listener._logger, unixFile);
        Log.ListenerStarted(listener._logger, listener.Display);
        if (tls || device is not null)
        {
            Log.ListenerSecured(listener._logger, listener.Display, tls ? "TLS (certificate by SNI)" : "plain", device ?? "-");
        }

        return listener;
    }

    public void Attach(Vhost vhost)
    {
        vhost.AttachedTo(RouteAsync);
        ImmutableInterlocked.Update(ref _vhosts, static (list, v) => list.Add(v), vhost);
    }

    /// <summary>Adds a TLS vhost to a plain listener's routing table, where it redirects every request to its HTTPS port.</summary>
    public void AttachRedirect(Vhost vhost)
        => ImmutableInterlocked.Update(ref _vhosts, static (list, v) => list.Add(v), vhost);

    /// <summary>Removes a vhost from the routing table; returns how many vhosts remain.</summary>
    public int Detach(Vhost vhost)
    {
        ImmutableInterlocked.Update(ref _vhosts, static (list, v) => list.Remove(v), vhost);
        return _vhosts.Length;
    }

    /// <summary>The vhost a name (a Host header, an SNI server name) selects: the one it names, else the first that serves here.</summary>
    public Vhost? Route(string host) => Named(_vhosts, host) ?? FirstServing(_vhosts);

    /// <summary>The vhost a request goes to: on TLS, the one its Host names, else its connection's (by SNI).</summary>
    private Vhost? Route(HttpContext context)
    {
        var vhosts = _vhosts;
        if (Named(vhosts, context.Request.Host.Host) is { } named)
        {
            return named;
        }

        return IsTls && context.Features.Get<ITlsHandshakeFeature>()?.HostName is { Length: > 0 } serverName
            ? Route(serverName)
            : FirstServing(vhosts);
    }

    /// <summary>
    /// The WebSocket fast path's routing: the vhost a clean upgrade naming <paramref name="host"/> goes to when that vhost
    /// would take it itself, as <see cref="RouteAsync"/> routes it, with the fast path on. A redirect to HTTPS, a
    /// misdirected request (421), a vhost that reroutes while it is destroyed: <see langword="null"/>, and Kestrel's
    /// pipeline answers.
    /// </summary>
    private Vhost? RouteUpgrade(string host, ConnectionContext connection)
    {
        var serverName = IsTls ? connection.Features.Get<ITlsHandshakeFeature>()?.HostName : null;
        var vhost = Named(_vhosts, host) ?? (serverName is { Length: > 0 } ? Route(serverName) : FirstServing(_vhosts));
        if (vhost is not { State: VhostState.Serving, Options.WebSocketFastPath: true }
            || (serverName is { Length: > 0 } && Route(serverName) != vhost)
            || (!IsTls && vhost.Tls is not null))
        {
            return null;
        }

        return vhost;
    }

    private static Vhost? Named(ImmutableArray<Vhost> vhosts, string host)
    {
        foreach (var vhost in vhosts)
        {
            if (string.Equals(vhost.Name, host, StringComparison.OrdinalIgnoreCase))
            {
                return vhost;
            }
        }

        return null;
    }

    private Vhost? FirstServing(ImmutableArray<Vhost> vhosts)
    {
        foreach (var vhost in vhosts)
        {
            if (IsTls || vhost.Tls is null)
            {
                return vhost;
            }
        }

        return vhosts.IsEmpty ? null : vhosts[0];
    }

    /// <summary>The TLS settings of the vhost the client names by SNI, in the routing table as it is now.</summary>
    private SslServerAuthenticationOptions SelectTls(string? serverName)
    {
        var vhost = Route(serverName ?? "");
        if (vhost?.Tls is not { } tls)
        {
            throw new InvalidOperationException($"listener {EndPoint}: no TLS vhost serves '{serverName}'.");
        }

        return tls.CreateServerOptions();
    }

    /// <summary>
    /// Why a TLS request must go elsewhere (421): its Host header names another vhost of this endpoint than the one its
    /// connection was made for (by SNI). A Host that names no vhost here goes to the connection's vhost.
    /// </summary>
    private string? MisdirectedReason(HttpContext context, Vhost routed)
    {
        if (!IsTls || context.Features.Get<ITlsHandshakeFeature>()?.HostName is not { Length: > 0 } serverName)
        {
            return null;
        }

        return Route(serverName) == routed
            ? null
            : $"The Host header '{context.Request.Host.Host}' names another vhost than the TLS server name (SNI) '{serverName}' of this connection.";
    }

    private Task RouteAsync(HttpContext context)
    {
        // A request on a kept-alive connection ends its idle time, whichever vhost armed it and whichever gets the request.
        KeepAliveTimer.Disarm(context);

        // A vhost being destroyed is unlisted before it stops serving, so it reroutes what still reaches it.
        var vhost = Route(context);
        if (vhost is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (MisdirectedReason(context, vhost) is { } misdirected)
        {
            context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
            return context.Response.WriteAsync(misdirected);
        }

        if (!IsTls && vhost.Tls is not null)
        {
            return RedirectToHttpsAsync(context, vhost);
        }

        return vhost.HandleAsync(context);
    }

    private static Task RedirectToHttpsAsync(HttpContext context, Vhost vhost)
    {
        var port = (vhost.EndPoint as IPEndPoint)?.Port ?? vhost.Options.Port;
        var host = context.Request.Host.Host;
        var authority = port == 443 ? host : $"{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}";
        context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
        context.Response.Headers.Location = $"https://{authority}{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}";
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _socket.DisposeAsync().ConfigureAwait(false);
        Log.ListenerStopped(_logger, Display);
    }
}
