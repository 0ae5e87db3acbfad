using System.Collections.Immutable;
using System.Net;
using System.Net.Security;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Host.Vhosts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// One listen socket (address + port, with or without TLS, optionally bound to a device): a Kestrel server started and
/// stopped at run time, shared by the vhosts that name its endpoint. A request goes to the vhost its Host header names,
/// else to the endpoint's first vhost. On a TLS listener the certificate is the one of the vhost the client names by SNI
/// (the first vhost's when it names none), looked up in the current routing table, so it comes and goes with the vhost;
/// a request whose Host header names another vhost than its SNI gets 421. On a plain listener, a TLS vhost attached for
/// its HTTP redirect answers every request with 301 to its HTTPS port.
/// </summary>
internal sealed class Listener : IAsyncDisposable
{
    private readonly ILogger _logger;
    private WebApplication _app = null!;
    private ImmutableArray<Vhost> _vhosts = [];

    private Listener(bool isTls, string? device, ILogger logger)
    {
        IsTls = isTls;
        Device = device;
        _logger = logger;
    }

    /// <summary>The bound endpoint (with the real port when 0 was asked for).</summary>
    public IPEndPoint EndPoint { get; private set; } = null!;

    /// <summary>Whether the listener speaks TLS; a TLS vhost and a plain one never share a listener.</summary>
    public bool IsTls { get; }

    /// <summary>The device the listen socket is bound to (SO_BINDTODEVICE), if any.</summary>
    public string? Device { get; }

    public IServiceProvider Services => _app.Services;

    public ImmutableArray<Vhost> Vhosts => _vhosts;

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
    /// <paramref name="beforeAccepting"/> runs once the listener's services exist and before its socket accepts, so the
    /// first vhost (its routing, its TLS certificate) is in place for the very first connection.
    /// </summary>
    public static async Task<Listener> StartAsync(
        IPEndPoint requested,
        bool tls,
        string? device,
        string vhost,
        ILoggerFactory loggerFactory,
        IHealthCheck readiness,
        TimeSpan handshakeTimeout,
        Action<Listener> beforeAccepting,
        CancellationToken cancellationToken)
    {
        var listener = new Listener(tls, device, loggerFactory.CreateLogger("LwsPlugins.Host.Listeners.Listener"));
        var builder = KestrelApp.CreateBuilder(
            "LwsPlugins.Listener",
            requested,
            loggerFactory,
            handshakeTimeout,
            tls ? listen => listener.UseTls(listen, handshakeTimeout) : null,
            device is null ? null : endPoint => InterfaceBinding.CreateBoundListenSocket(vhost, device, endPoint));
        builder.Services.AddHealthChecks()
            .AddCheck("live", () => HealthCheckResult.Healthy("serving"), tags: ["live"])
            .AddCheck("ready", readiness, tags: ["ready"]);
        var app = builder.Build();
        listener._app = app;

        app.Use((context, next) =>
        {
            if (listener.MisdirectedReason(context) is { } misdirected)
            {
                context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
                return context.Response.WriteAsync(misdirected);
            }

            // Frame checks the WebSocket implementation leaves out, with the limit of the vhost the request goes to.
            if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade && listener.Route(context.Request.Host.Host) is { } vhost)
            {
                var lifetime = context.Features.Get<IHttpRequestLifetimeFeature>();
                var upgraded = new UpgradedConnectionLifetime(upgrade, lifetime, vhost.Options.MaxMessageSize);
                context.Features.Set<IHttpUpgradeFeature>(upgraded);
                if (lifetime is not null)
                {
                    context.Features.Set<IHttpRequestLifetimeFeature>(upgraded);
                }
            }

            return next(context);
        });
        app.UseWebSockets();
        app.Run(listener.RouteAsync);
        try
        {
            beforeAccepting(listener);
            listener.EndPoint = await KestrelApp.StartAsync(app, requested.Address, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        Log.ListenerStarted(listener._logger, listener.EndPoint.ToString());
        if (tls || device is not null)
        {
            Log.ListenerSecured(listener._logger, listener.EndPoint.ToString(), tls ? "TLS (certificate by SNI)" : "plain", device ?? "-");
        }

        return listener;
    }

    public void Attach(Vhost vhost)
    {
        vhost.Reroute = RouteAsync;
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

    public Vhost? Route(string host)
    {
        var vhosts = _vhosts;
        foreach (var vhost in vhosts)
        {
            if (string.Equals(vhost.Name, host, StringComparison.OrdinalIgnoreCase))
            {
                return vhost;
            }
        }

        return vhosts.IsEmpty ? null : vhosts[0];
    }

    private void UseTls(ListenOptions listen, TimeSpan handshakeTimeout)
    {
        // WebSockets over TLS use HTTP/1.1 upgrades; ALPN offers only that.
        listen.Protocols = HttpProtocols.Http1;
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            HandshakeTimeout = handshakeTimeout,
            OnConnection = context => ValueTask.FromResult(SelectTls(context.ClientHelloInfo.ServerName)),
        });
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

    /// <summary>Why a TLS request must go elsewhere (421): its Host header names another vhost than the SNI it connected with.</summary>
    private string? MisdirectedReason(HttpContext context)
    {
        if (!IsTls || context.Features.Get<ITlsHandshakeFeature>()?.HostName is not { Length: > 0 } serverName)
        {
            return null;
        }

        var host = context.Request.Host.Host;
        return string.Equals(serverName, host, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"The Host header '{host}' does not match the TLS server name (SNI) '{serverName}' of this connection.";
    }

    private Task RouteAsync(HttpContext context)
    {
        // A vhost being destroyed is unlisted before it stops serving, so it reroutes what still reaches it.
        var vhost = Route(context.Request.Host.Host);
        if (vhost is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (!IsTls && vhost.Tls is not null)
        {
            return RedirectToHttpsAsync(context, vhost);
        }

        return vhost.HandleAsync(context);
    }

    private static Task RedirectToHttpsAsync(HttpContext context, Vhost vhost)
    {
        var port = vhost.EndPoint?.Port ?? vhost.Options.Port;
        var host = context.Request.Host.Host;
        var authority = port == 443 ? host : $"{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}";
        context.Response.StatusCode = StatusCodes.Status301MovedPermanently;
        context.Response.Headers.Location = $"https://{authority}{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}";
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await KestrelApp.StopAsync(_app).ConfigureAwait(false);
        Log.ListenerStopped(_logger, EndPoint.ToString());
    }
}
