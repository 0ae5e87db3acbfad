using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// A Kestrel server started at run time on one endpoint (a listener, the admin API): a slim web application that logs to
/// the engine's logger factory, never hooks the process's console signals, and stops within a bounded time.
/// </summary>
internal static class KestrelApp
{
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    public static WebApplicationBuilder CreateBuilder(
        string applicationName,
        IPEndPoint endPoint,
        ILoggerFactory loggerFactory,
        TimeSpan? handshakeTimeout = null,
        Action<ListenOptions>? configureListen = null,
        Func<EndPoint, Socket>? createListenSocket = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = applicationName,
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(new ListenerLoggerFactory(loggerFactory));
        builder.Services.AddSingleton<IHostLifetime, ListenerHostLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(endPoint, listen => configureListen?.Invoke(listen));
            if (handshakeTimeout is { } timeout)
            {
                // A request (and so a WebSocket handshake) whose headers do not arrive in time is closed by Kestrel.
                // Kestrel times the wait for a request's first byte (a fresh connection that sends nothing, or an idle
                // keep-alive connection) with KeepAliveTimeout instead, 130 s by default: bound that wait as well.
                kestrel.Limits.RequestHeadersTimeout = timeout;
                kestrel.Limits.KeepAliveTimeout = timeout;
            }
        });
        if (createListenSocket is not null)
        {
            builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = createListenSocket);
        }

        return builder;
    }

    /// <summary>Starts the application and returns the endpoint it is bound to (with the real port when 0 was asked for).</summary>
    public static async Task<IPEndPoint> StartAsync(WebApplication app, IPAddress address, CancellationToken cancellationToken)
    {
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new IPEndPoint(address, new Uri(bound).Port);
    }

    public static async ValueTask StopAsync(WebApplication app)
    {
        using var timeout = new CancellationTokenSource(ShutdownTimeout);
        await app.StopAsync(timeout.Token).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
