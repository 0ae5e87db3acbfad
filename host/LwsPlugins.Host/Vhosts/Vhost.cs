using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Host.Vfs;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A virtual host (lws: <c>lws_vhost</c>): a name, its protocols with their per-vhost instances, its static mounts,
/// and the sessions it serves. Requests reach it through the listener of its endpoint.
/// </summary>
internal sealed class Vhost : IAsyncDisposable
{
    /// <summary>RFC 6455 close code 1012 (IANA registry), which <see cref="WebSocketCloseStatus"/> does not name.</summary>
    private const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<WebSocketSession, byte> _sessions = new();
    private readonly ConcurrentDictionary<HttpContext, Task> _requests = new();
    private readonly SessionLimits _limits;
    private readonly ConcurrentDictionary<Task, byte> _retiring = new();
    private VhostWatchdogs _watchdogs;
    private volatile VhostOptions _options;
    private VhostHttpPipeline _pipeline = VhostHttpPipeline.Empty;
    private volatile VhostProtocol[] _protocols;
    private Listeners.VhostTls? _tls;

    /// <summary>Completed by the last session to end once destruction has begun (see <see cref="StopAsync"/>).</summary>
    private TaskCompletionSource? _drained;

    public Vhost(
        VhostOptions options, IPAddress address, IReadOnlyList<VhostProtocol> protocols, Listeners.VhostTls? tls, TimeProvider time, ILoggerFactory loggerFactory, LwsMetrics metrics, Action statusChanged)
    {
        StatusChanged = statusChanged;
        _limits = new SessionLimits(options);
        Traffic = new TrafficCounters(metrics, options.Name);
        _options = options;
        Address = address;
        _protocols = [.. protocols];
        _tls = tls;
        Time = time;
        _logger = loggerFactory.CreateLogger("LwsPlugins.Host.Vhosts.Vhost");
        Acceptor = new WebSocketAcceptor(this, _limits, _logger);
        _watchdogs = new VhostWatchdogs(options, time, _sessions);
    }

    public string Name => Options.Name;

    /// <summary>Who made the vhost (the configuration files, the admin API, the engine's API): only that source changes it.</summary>
    public string Source { get; init; } = VhostSources.Api;

    /// <summary>The vhost's definition now; <see cref="Reconfigure"/> swaps it (its name and endpoint never change).</summary>
    public VhostOptions Options => _options;

    public IPAddress Address { get; }

    /// <summary>
    /// The protocols served now, listed ones first. A vhost that serves every loaded plugin gains and loses protocols as
    /// plugins come and go (<see cref="AddProtocol"/>, <see cref="RemoveProtocol"/>, called under the context's lock);
    /// each read is one consistent snapshot.
    /// </summary>
    public IReadOnlyList<VhostProtocol> Protocols => _protocols;

    /// <summary>Starts serving a protocol that a newly loaded plugin brings.</summary>
    public void AddProtocol(VhostProtocol protocol) => _protocols = [.. _protocols, protocol];

    /// <summary>Stops listing a protocol whose plugin is gone and whose last instance has retired.</summary>
    public void RemoveProtocol(VhostProtocol protocol) => _protocols = [.. _protocols.Where(p => p != protocol)];

    public TimeProvider Time { get; }

    public TrafficCounters Traffic { get; }

    /// <summary>
    /// Routes a request again through the listener. A request that reaches the vhost just after it was unlisted for
    /// destruction goes to its successor on the endpoint instead of being refused. Set once, by the first listener
    /// the vhost is attached to.
    /// </summary>
    public Func<HttpContext, Task>? Reroute { get; private set; }

    /// <summary>What <see cref="VhostOptions.MetricsPath"/> and <see cref="VhostOptions.StatusPath"/> answer; the context's.</summary>
    public Observability? Observability { get; init; }

    /// <summary>The vhost's access log, when its definition has one.</summary>
    public AccessLog? AccessLog => Volatile.Read(ref _pipeline).AccessLog;

    /// <summary>Tells status subscribers that the vhost's sessions changed.</summary>
    public Action StatusChanged { get; }

    public VhostState State { get; private set; } = VhostState.Serving;

    /// <summary>Where the vhost listens once bound: an IP endpoint (with the real port when 0 was asked for), or a Unix socket (<see cref="System.Net.Sockets.UnixDomainSocketEndPoint"/>).</summary>
    public EndPoint? EndPoint { get; private set; }

    /// <summary>The vhost's TLS certificate and client-certificate rules, when it serves TLS; disposed with the vhost.</summary>
    public Listeners.VhostTls? Tls => Volatile.Read(ref _tls);

    public int SessionCount => _sessions.Count;

    /// <summary>The vhost's WebSocket handshakes, from Kestrel's HTTP pipeline or the fast path.</summary>
    public WebSocketAcceptor Acceptor { get; }

    /// <summary>The sessions on one protocol instance (a reload moves, drains or closes them).</summary>
    public IEnumerable<WebSocketSession> SessionsOf(ProtocolInstance instance) => _sessions.Keys.Where(s => s.Instance == instance);

    /// <summary>The vhost's logger, for the parts that act on it (reload, lifecycle).</summary>
    public ILogger Logger => _logger;

    /// <summary>Called by each listener the vhost is attached to; the first (its own endpoint's) routes its late requests.</summary>
    public void AttachedTo(Func<HttpContext, Task> reroute) => Reroute ??= reroute;

    /// <summary>The vhost's own listener is bound.</summary>
    public void Listening(EndPoint endPoint) => EndPoint = endPoint;

    /// <summary>Starts answering HTTP with <paramref name="pipeline"/> (the first one, or a changed definition's).</summary>
    public void UsePipeline(VhostHttpPipeline pipeline)
    {
        var previous = Interlocked.Exchange(ref _pipeline, pipeline);
        if (previous != VhostHttpPipeline.Empty)
        {
            TrackRetirement(previous.RetireAsync());
        }
    }

    /// <summary>
    /// Applies a changed definition of the same endpoint, each part in one step, keeping every session: the options (and
    /// with them limits, timeouts and watchdogs), the TLS certificate and the HTTP pipeline. What is replaced is freed
    /// once nothing uses it. Protocol changes are applied by the caller first, through the reload's instance swap.
    /// </summary>
    public void Reconfigure(VhostOptions options, VhostHttpPipeline pipeline, Listeners.VhostTls? tls)
    {
        var watchdogs = new VhostWatchdogs(options, Time, _sessions);
        _limits.Reconfigure(options);
        _options = options;
        var previousTls = Interlocked.Exchange(ref _tls, tls);
        if (previousTls is not null && previousTls != tls)
        {
            // A handshake that took the old certificate a moment ago still uses it: it is freed 30 s later (far past any
            // handshake timeout), or when the vhost is disposed.
            TrackRetirement(DisposeLaterAsync(previousTls));
        }

        var previous = _watchdogs;
        _watchdogs = watchdogs;
        TrackRetirement(previous.DisposeAsync().AsTask());
        UsePipeline(pipeline);
    }

    private async Task DisposeLaterAsync(Listeners.VhostTls disposable)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(30), Time, _disposing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        disposable.Dispose();
    }

    private readonly CancellationTokenSource _disposing = new();

    /// <summary>Work the vhost started that must end before it is freed (a retired pipeline draining, an old certificate).</summary>
    private void TrackRetirement(Task task)
    {
        _retiring.TryAdd(task, 0);
        _ = task.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _), _retiring, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The client as the access log names it: its address, or <c>unix</c> on a Unix socket (which has none).</summary>
    private static string? Peer(HttpContext context)
        => context.Connection.RemoteIpAddress?.ToString()
           ?? (context.Features.Get<Listeners.ListenSocket>()?.EndPoint is System.Net.Sockets.UnixDomainSocketEndPoint ? "unix" : null);


    public Task HandleAsync(HttpContext context) => Acceptor.TryAccept(context) ?? ServeHttpAsync(context);

    /// <summary>
    /// Part 1 of the destruction (lws: <c>lws_vhost_destroy1</c>): refuse new work, close every session with 1001 and let
    /// HTTP requests finish, both within the close timeout (then abort what is left), and dispose the protocol instances.
    /// </summary>
    public async Task StopAsync()
    {
        State = VhostState.Destroying;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        Interlocked.MemoryBarrier();
        if (_sessions.IsEmpty)
        {
            drained.TrySetResult();
        }

        foreach (var session in _sessions.Keys)
        {
            session.Close(WebSocketCloseStatus.EndpointUnavailable, "vhost destroyed");
        }

        Task[] pending = [drained.Task, .. _requests.Values];
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

            try
            {
                await Task.WhenAll(pending).WaitAsync(TimeSpan.FromMilliseconds(Options.CloseTimeoutMs), Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Sessions whose socket is gone but whose plugin callback never returns (already reported by the watchdog):
                // the vhost does not wait for them forever.
                Log.SessionsStuckInPlugin(_logger, Name, _sessions.Count + pending.Count(t => t != drained.Task && !t.IsCompleted));
            }
        }

        await DisposeHandlersAsync().ConfigureAwait(false);
    }

    /// <summary>Part 2 (lws: <c>lws_vhost_destroy2</c>): frees what the vhost still owns. Also safe without part 1.</summary>
    public async ValueTask DisposeAsync()
    {
        State = VhostState.Destroying;
        await DisposeHandlersAsync().ConfigureAwait(false);
        await _watchdogs.DisposeAsync().ConfigureAwait(false);
        await _disposing.CancelAsync().ConfigureAwait(false);
        await Volatile.Read(ref _pipeline).DisposeAsync().ConfigureAwait(false);

        // Retired pipelines whose last requests were aborted with the vhost's (see StopAsync) are done by now, as is
        // the delayed release of a replaced certificate (cancelled above).
        await Task.WhenAll(_retiring.Keys).WaitAsync(TimeSpan.FromMilliseconds(Options.CloseTimeoutMs), Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _limits.Dispose();
        Tls?.Dispose();
        _disposing.Dispose();
    }

    private async Task DisposeHandlersAsync()
    {
        foreach (var protocol in Protocols)
        {
            foreach (var instance in protocol.Instances)
            {
                try
                {
                    await instance.DisposeHandlerAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.ProtocolDisposeFailed(_logger, ex, Name, instance.PluginId, protocol.Name);
                }
            }
        }
    }

    private async Task ServeHttpAsync(HttpContext context)
    {
        if (State != VhostState.Serving && Reroute is { } reroute)
        {
            await reroute(context).ConfigureAwait(false);
            return;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ResponseBodyCounter? body = null;
        _requests.TryAdd(context, done.Task);
        try
        {
            if (State != VhostState.Serving)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            var pipeline = EnterPipeline();
            try
            {
                body = pipeline.AccessLog is null ? null : ResponseBodyCounter.Install(context);
                await pipeline.Handle(context).ConfigureAwait(false);
            }
            finally
            {
                pipeline.Exit();
            }
        }
        finally
        {
            _requests.TryRemove(context, out _);
            done.TrySetResult();
            var request = context.Request;
            if (Options.KeepAliveTimeoutMs is > 0 and var keepAlive && context.Response.StatusCode != StatusCodes.Status101SwitchingProtocols
                && (HttpProtocol.IsHttp11(request.Protocol) || HttpProtocol.IsHttp10(request.Protocol)))
            {
                // The vhost's own idle bound for a kept-alive HTTP/1.x connection (not HTTP/2, not an upgraded one);
                // armed before the access log line is written, so whoever reads that line knows the idle time counts.
                Listeners.KeepAliveTimer.Arm(context, TimeSpan.FromMilliseconds(keepAlive), Time);
            }

            AccessLog?.Request(
                Peer(context), Time.GetUtcNow(), request.Method, KestrelUpgradeRequest.RawTargetOf(context), request.Protocol,
                context.Response.StatusCode, body?.Written ?? 0, request.Headers.Referer.ToString() is { Length: > 0 } referer ? referer : null, request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null);
        }
    }

    /// <summary>The current pipeline, entered: a swap between the read and the entry is seen, and the new one entered instead.</summary>
    private VhostHttpPipeline EnterPipeline()
    {
        while (true)
        {
            var pipeline = Volatile.Read(ref _pipeline);
            pipeline.Enter();
            if (pipeline == Volatile.Read(ref _pipeline))
            {
                return pipeline;
            }

            pipeline.Exit();
        }
    }

    /// <summary>Starts tracking a session the acceptor started (destruction closes and awaits what is tracked).</summary>
    public void Track(WebSocketSession session) => _sessions.TryAdd(session, 0);

    /// <summary>Stops tracking an ended session; the last one to end during destruction completes the drain.</summary>
    public void Untrack(WebSocketSession session)
    {
        _sessions.TryRemove(session, out _);

        // Pairs with the barrier in StopAsync: either it sees this removal, or this sees its drain.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _drained) is { } drained && _sessions.IsEmpty)
        {
            drained.TrySetResult();
        }
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }
}
