using System.Net.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// What every listener shares (the vhosts' listen sockets and the admin API's): one Kestrel server (one heartbeat, one
/// set of limits and connection middleware), one socket transport (one set of I/O queues and their memory pools), one
/// service provider for the HTTP pipelines (health checks, static files, routing), and no configuration sources, so
/// nothing watches files. Kestrel listens on two endpoints of our own, plain and TLS; a listen socket puts each accepted
/// connection in the queue of its kind, tagged with itself (<see cref="ListenSocket"/>), and the one request pipeline
/// hands each request to the listen socket its connection came through. Starting a listener is binding a socket.
/// </summary>
internal sealed class ServerServices : IAsyncDisposable
{
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Concurrent streams (requests and WebSockets) one HTTP/2 connection may open (SETTINGS_MAX_CONCURRENT_STREAMS).</summary>
    public const int Http2MaxStreamsPerConnection = 100;

    /// <summary>The largest HTTP/2 frame payload the server accepts (SETTINGS_MAX_FRAME_SIZE; RFC 9113's minimum and default).</summary>
    public const int Http2MaxFrameSize = 16 * 1024;

    /// <summary>
    /// What one HTTP/2 stream may have in flight towards the server before it reads (its initial window): what a stream
    /// whose session is paused by backpressure holds unread, at most.
    /// </summary>
    public const int Http2StreamWindow = 256 * 1024;

    /// <summary>
    /// What all streams of one HTTP/2 connection together may have in flight (the connection window): twice every stream's
    /// window. Kestrel returns connection window only once half of it has been read, so bytes held unread by paused streams
    /// must stay below half of it, or the connection's other uploads stop for good (measured: 4 paused streams stopped
    /// every sibling with a 4 MiB window and 768 KiB streams). Window is credit, not memory; the stream windows bound
    /// what a connection's streams hold unread (<see cref="Http2MaxStreamsPerConnection"/> × <see cref="Http2StreamWindow"/>).
    /// </summary>
    public const int Http2ConnectionWindow = 2 * Http2MaxStreamsPerConnection * Http2StreamWindow;

    private readonly WebApplication _app;

    private ServerServices(WebApplication app, SocketConnectionContextFactory connections, ConnectionQueue plain, ConnectionQueue tls, TimeSpan handshakeTimeout)
    {
        _app = app;
        HandshakeTimeout = handshakeTimeout;
        Connections = connections;
        Plain = plain;
        Tls = tls;
    }

    public IServiceProvider Services => _app.Services;

    /// <summary>Wraps accepted sockets as Kestrel connections: one transport for every listen socket.</summary>
    public SocketConnectionContextFactory Connections { get; }

    public ConnectionQueue Plain { get; }

    /// <summary>The bound on a request's headers, a TLS handshake and the wait for a connection's first byte.</summary>
    public TimeSpan HandshakeTimeout { get; }

    public ConnectionQueue Tls { get; }

    /// <summary>
    /// The clock of the bounds on the operating system (accept back-off, shutdown timeout): wall time, as Kestrel's own
    /// shutdown timeout, so a test that fakes the engine's clock still gets its sockets closed.
    /// </summary>
    public static TimeProvider Time => TimeProvider.System;

    /// <summary>
    /// Starts the shared server. <paramref name="handshakeTimeout"/> bounds a request's headers (so a WebSocket
    /// handshake), a TLS handshake and the wait for a request's first byte; Kestrel closes the connection after it.
    /// </summary>
    public static async Task<ServerServices> StartAsync(
        ILoggerFactory loggerFactory, IHealthCheck readiness, TimeSpan handshakeTimeout, CancellationToken cancellationToken)
    {
        var plain = new ConnectionQueue("plain");
        var tls = new ConnectionQueue("tls");
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = "LwsPlugins.Listeners",
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        var listenerLogging = new ListenerLoggerFactory(loggerFactory);
        builder.Services.AddLogging();
        builder.Services.AddSingleton<ILoggerFactory>(listenerLogging);
        builder.Services.AddSingleton<IHostLifetime, ListenerHostLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddRouting();
        builder.Services.AddHealthChecks()
            .AddCheck("live", () => HealthCheckResult.Healthy("serving"), tags: ["live"])
            .AddCheck("ready", readiness, tags: ["ready"]);
        builder.Services.AddSingleton<IConnectionListenerFactory, ConnectionQueueFactory>();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            // Kestrel times the wait for a request's first byte (a fresh connection that sends nothing, or an idle
            // keep-alive connection) with KeepAliveTimeout, 130 s by default: bound it as the headers are.
            kestrel.Limits.RequestHeadersTimeout = handshakeTimeout;
            kestrel.Limits.KeepAliveTimeout = handshakeTimeout;
            var fastPath = new WebSocketFastPath(handshakeTimeout);
            kestrel.Listen(plain.EndPoint, listen => listen.Use(fastPath.Use));
            // HTTP/2 on TLS (ALPN, per vhost: VhostTls.OffersHttp2), WebSockets over extended CONNECT (RFC 8441). Flow
            // control is per stream: a session whose send queue pauses its reads stops granting window to its own stream
            // only, so its siblings on the connection keep flowing; the connection window is large enough that every
            // other stream of the connection paused at once cannot hold half of it (see Http2ConnectionWindow).
            kestrel.Limits.Http2.MaxStreamsPerConnection = Http2MaxStreamsPerConnection;
            kestrel.Limits.Http2.MaxFrameSize = Http2MaxFrameSize;
            kestrel.Limits.Http2.InitialStreamWindowSize = Http2StreamWindow;
            kestrel.Limits.Http2.InitialConnectionWindowSize = Http2ConnectionWindow;
            kestrel.Listen(tls.EndPoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    HandshakeTimeout = handshakeTimeout,
                    OnConnection = context => ValueTask.FromResult(SelectTls(context.Connection, context.ClientHelloInfo.ServerName)),
                });
                listen.Use(fastPath.Use);
            });
        });

        var app = builder.Build();
        app.Run(static context => context.Features.Get<ListenSocket>() is { } socket
            ? socket.Application(context)
            : MisroutedAsync(context));
        var connections = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions(),
            listenerLogging.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            connections.Dispose();
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new ServerServices(app, connections, plain, tls, handshakeTimeout);
    }

    public ConnectionQueue QueueFor(bool tls) => tls ? Tls : Plain;

    private static SslServerAuthenticationOptions SelectTls(ConnectionContext connection, string? serverName)
        => connection.Features.Get<ListenSocket>()?.SelectTls is { } select
            ? select(serverName)
            : throw new InvalidOperationException($"connection {connection.ConnectionId} came through no TLS listen socket.");

    private static Task MisroutedAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(ShutdownTimeout);
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            Connections.Dispose();
        }
    }
}
