using System.Collections.Immutable;
using System.Net;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Host.Vhosts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// One listen socket (address + port): a Kestrel server started and stopped at run time, shared by the vhosts that
/// name its endpoint. A request goes to the vhost its Host header names, else to the endpoint's first vhost.
/// </summary>
internal sealed class Listener : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private ImmutableArray<Vhost> _vhosts = [];

    private Listener(WebApplication app, IPEndPoint endPoint, ILogger logger)
    {
        _app = app;
        EndPoint = endPoint;
        _logger = logger;
    }

    /// <summary>The bound endpoint (with the real port when 0 was asked for).</summary>
    public IPEndPoint EndPoint { get; }

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

    public static async Task<Listener> StartAsync(
        IPEndPoint requested, ILoggerFactory loggerFactory, IHealthCheck readiness, TimeSpan handshakeTimeout, CancellationToken cancellationToken)
    {
        var builder = KestrelApp.CreateBuilder("LwsPlugins.Listener", requested, loggerFactory, handshakeTimeout);
        builder.Services.AddHealthChecks()
            .AddCheck("live", () => HealthCheckResult.Healthy("serving"), tags: ["live"])
            .AddCheck("ready", readiness, tags: ["ready"]);
        var app = builder.Build();

        Listener? listener = null;
        app.Use((context, next) =>
        {
            // Frame checks the WebSocket implementation leaves out, with the limit of the vhost the request goes to.
            if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade && listener!.Route(context.Request.Host.Host) is { } vhost)
            {
                context.Features.Set<IHttpUpgradeFeature>(new GuardedUpgradeFeature(upgrade, vhost.Options.MaxMessageSize));
            }

            return next(context);
        });
        app.UseWebSockets();
        app.Run(context => listener!.RouteAsync(context));
        var bound = await KestrelApp.StartAsync(app, requested.Address, cancellationToken).ConfigureAwait(false);
        listener = new Listener(app, bound, loggerFactory.CreateLogger("LwsPlugins.Host.Listeners.Listener"));
        Log.ListenerStarted(listener._logger, listener.EndPoint.ToString());
        return listener;
    }

    public void Attach(Vhost vhost)
    {
        vhost.Reroute = RouteAsync;
        ImmutableInterlocked.Update(ref _vhosts, static (list, v) => list.Add(v), vhost);
    }

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

    private Task RouteAsync(HttpContext context)
    {
        // A vhost being destroyed is unlisted before it stops serving, so it reroutes what still reaches it.
        var vhost = Route(context.Request.Host.Host);
        if (vhost is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return vhost.HandleAsync(context);
    }

    public async ValueTask DisposeAsync()
    {
        await KestrelApp.StopAsync(_app).ConfigureAwait(false);
        Log.ListenerStopped(_logger, EndPoint.ToString());
    }
}
