using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A virtual host (lws: <c>lws_vhost</c>): a name, its protocols with their per-vhost instances, its static mounts,
/// and the sessions it serves. Requests reach it through the listener of its endpoint.
/// </summary>
internal sealed class Vhost : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<WebSocketSession, Task> _sessions = new();
    private readonly ConcurrentDictionary<HttpContext, Task> _requests = new();
    private readonly List<PhysicalFileProvider> _fileProviders = [];
    private RequestDelegate _http = NotFound;

    public Vhost(VhostOptions options, IPAddress address, IReadOnlyList<VhostProtocol> protocols, TimeProvider time, ILoggerFactory loggerFactory)
    {
        Options = options;
        Address = address;
        Protocols = protocols;
        Time = time;
        _logger = loggerFactory.CreateLogger("LwsPlugins.Host.Vhosts.Vhost");
    }

    public string Name => Options.Name;

    public VhostOptions Options { get; }

    public IPAddress Address { get; }

    public IReadOnlyList<VhostProtocol> Protocols { get; }

    public TimeProvider Time { get; }

    public TrafficCounters Traffic { get; } = new();

    public VhostState State { get; private set; } = VhostState.Serving;

    /// <summary>The deferred second part of the destruction, while it is pending.</summary>
    public ITimer? DestroyTimer { get; set; }

    public IPEndPoint? EndPoint { get; set; }

    public int SessionCount => _sessions.Count;

    /// <summary>Builds the vhost's static-file pipeline with the services of the listener that serves it.</summary>
    public void BuildHttpPipeline(IServiceProvider services, string baseDirectory)
    {
        var app = new ApplicationBuilder(services);
        foreach (var (mount, index) in Options.Mounts.Select((m, i) => (m, i)).OrderByDescending(m => m.m.MountPoint.Length))
        {
            var root = Path.GetFullPath(Path.Combine(baseDirectory, mount.Origin));
            if (!Directory.Exists(root))
            {
                throw new LwsConfigurationException($"vhost '{Name}': mounts[{index}].origin: folder '{root}' does not exist.");
            }

            var provider = new PhysicalFileProvider(root);
            _fileProviders.Add(provider);
            var requestPath = mount.MountPoint == "/" ? PathString.Empty : new PathString(mount.MountPoint.TrimEnd('/'));
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = provider, RequestPath = requestPath, DefaultFileNames = [.. mount.DefaultDocuments] });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = provider, RequestPath = requestPath });
        }

        app.Run(NotFound);
        _http = app.Build();
    }

    public Task HandleAsync(HttpContext context)
        => context.WebSockets.IsWebSocketRequest ? AcceptAsync(context) : ServeHttpAsync(context);

    /// <summary>
    /// Part 1 of the destruction (lws: <c>lws_vhost_destroy1</c>): refuse new work, close every session with 1001 and let
    /// HTTP requests finish, both within the close timeout (then abort what is left), and dispose the protocol instances.
    /// </summary>
    public async Task StopAsync()
    {
        State = VhostState.Destroying;
        foreach (var session in _sessions.Keys)
        {
            session.Close(WebSocketCloseStatus.EndpointUnavailable, "vhost destroyed");
        }

        Task[] pending = [.. _sessions.Values, .. _requests.Values];
        try
        {
            await Task.WhenAll(pending).WaitAsync(TimeSpan.FromMilliseconds(Options.CloseTimeoutMs), Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (var session in _sessions.Keys)
            {
                session.Abort();
            }

            foreach (var request in _requests.Keys)
            {
                request.Abort();
            }

            await Task.WhenAll(pending).ConfigureAwait(false);
        }

        await DisposeHandlersAsync().ConfigureAwait(false);
    }

    /// <summary>Part 2 (lws: <c>lws_vhost_destroy2</c>): frees what the vhost still owns. Also safe without part 1.</summary>
    public async ValueTask DisposeAsync()
    {
        State = VhostState.Destroying;
        await DisposeHandlersAsync().ConfigureAwait(false);
        if (DestroyTimer is not null)
        {
            await DestroyTimer.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var provider in _fileProviders)
        {
            provider.Dispose();
        }
    }

    private async Task DisposeHandlersAsync()
    {
        foreach (var protocol in Protocols)
        {
            try
            {
                await protocol.DisposeHandlerAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.ProtocolDisposeFailed(_logger, ex, Name, protocol.PluginId, protocol.Name);
            }
        }
    }

    private async Task ServeHttpAsync(HttpContext context)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.TryAdd(context, done.Task);
        try
        {
            if (State != VhostState.Serving)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            await _http(context).ConfigureAwait(false);
        }
        finally
        {
            _requests.TryRemove(context, out _);
            done.TrySetResult();
        }
    }

    private async Task AcceptAsync(HttpContext context)
    {
        var protocol = Negotiate(context.WebSockets.WebSocketRequestedProtocols, out var refusal, out var status);
        if (protocol is null || State != VhostState.Serving)
        {
            refusal ??= $"vhost '{Name}' is being destroyed.";
            Log.UpgradeRefused(_logger, Name, context.Connection.RemoteIpAddress?.ToString(), refusal);
            context.Response.StatusCode = protocol is null ? status : StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync(refusal).ConfigureAwait(false);
            return;
        }

        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = protocol == VhostProtocol.None ? null : protocol.Name,
            DangerousEnableCompression = protocol.PerMessageDeflate,
            KeepAliveInterval = TimeSpan.FromMilliseconds(Options.PingIntervalMs),
        }).ConfigureAwait(false);

        using (socket)
        {
            var session = new WebSocketSession(socket, context, this, protocol, _logger);
            var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // Counted before the protocol hears of it, so status seen from its open callback includes it.
            protocol.SessionOpened();
            _sessions.TryAdd(session, ended.Task);
            if (State != VhostState.Serving)
            {
                // Destruction began between negotiation and now: its sweep may not have seen this session.
                session.Close(WebSocketCloseStatus.EndpointUnavailable, "vhost destroyed");
            }

            try
            {
                await session.RunAsync().ConfigureAwait(false);
            }
            finally
            {
                _sessions.TryRemove(session, out _);
                protocol.SessionClosed();
                ended.TrySetResult();
            }
        }
    }

    /// <summary>
    /// lws's choice: the first protocol the client names that the vhost serves, by exact, case-sensitive name. A request
    /// naming none is bound to the vhost's default (no plugin); one naming only unknown protocols is refused.
    /// </summary>
    private VhostProtocol? Negotiate(IList<string> requested, out string? refusal, out int status)
    {
        refusal = null;
        status = StatusCodes.Status400BadRequest;
        if (requested.Count == 0)
        {
            return VhostProtocol.None;
        }

        VhostProtocol? unavailable = null;
        foreach (var name in requested)
        {
            foreach (var protocol in Protocols)
            {
                if (string.Equals(protocol.Name, name, StringComparison.Ordinal))
                {
                    if (protocol.IsAvailable)
                    {
                        return protocol;
                    }

                    unavailable ??= protocol;
                }
            }
        }

        if (unavailable is not null)
        {
            status = StatusCodes.Status503ServiceUnavailable;
            refusal = $"protocol '{unavailable.Name}' is unavailable on vhost '{Name}': {unavailable.UnavailableReason}";
        }
        else
        {
            refusal = $"vhost '{Name}' serves none of the requested WebSocket subprotocols ({string.Join(", ", requested)}).";
        }

        return null;
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }
}
