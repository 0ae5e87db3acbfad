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
    private readonly List<IDisposable> _fileProviders = [];
    private readonly ITimer? _callbackWatchdog;
    private readonly TimeSpan _callbackTimeout;
    private readonly ITimer? _stallWatchdog;
    private RequestDelegate _http = NotFound;
    private volatile VhostProtocol[] _protocols;

    /// <summary>Completed by the last session to end once destruction has begun (see <see cref="StopAsync"/>).</summary>
    private TaskCompletionSource? _drained;

    public Vhost(
        VhostOptions options, IPAddress address, IReadOnlyList<VhostProtocol> protocols, TimeProvider time, ILoggerFactory loggerFactory, LwsMetrics metrics, Action statusChanged)
    {
        StatusChanged = statusChanged;
        _limits = new SessionLimits(options);
        Traffic = new TrafficCounters(metrics, options.Name);
        _accessLogDropped = metrics.AccessLogDropped;
        Options = options;
        Address = address;
        _protocols = [.. protocols];
        Time = time;
        _logger = loggerFactory.CreateLogger("LwsPlugins.Host.Vhosts.Vhost");
        if (options.CallbackTimeoutMs > 0)
        {
            // A quarter of the timeout between sweeps: a stuck callback is caught between 1 and 1.25 timeouts after it began.
            var timeout = TimeSpan.FromMilliseconds(options.CallbackTimeoutMs);
            var sweep = TimeSpan.FromMilliseconds(Math.Max(1, options.CallbackTimeoutMs / 4));
            _callbackWatchdog = time.CreateTimer(static state => ((Vhost)state!).SweepCallbacks(), this, sweep, sweep);
            _callbackTimeout = timeout;
        }

        if (options.SlowConsumerPolicy == SlowConsumerPolicy.Backpressure && options.StallTimeoutMs > 0)
        {
            // One timer per vhost, not per session; a quarter of the timeout between sweeps, so a stalled member is cut
            // between 1 and 1.25 timeouts after its writer last made progress.
            var sweep = TimeSpan.FromMilliseconds(Math.Max(1, options.StallTimeoutMs / 4));
            _stallWatchdog = time.CreateTimer(static state => ((Vhost)state!).SweepStalls(), this, sweep, sweep);
        }
    }

    public string Name => Options.Name;

    public VhostOptions Options { get; }

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
    /// destruction goes to its successor on the endpoint instead of being refused.
    /// </summary>
    public Func<HttpContext, Task>? Reroute { get; set; }

    private readonly System.Diagnostics.Metrics.Counter<long> _accessLogDropped;

    /// <summary>What <see cref="VhostOptions.MetricsPath"/> and <see cref="VhostOptions.StatusPath"/> answer; the context's.</summary>
    public Observability? Observability { get; init; }

    /// <summary>The vhost's access log, when it has one.</summary>
    public AccessLog? AccessLog { get; private set; }

    /// <summary>Tells status subscribers that the vhost's sessions changed.</summary>
    public Action StatusChanged { get; }

    public VhostState State { get; private set; } = VhostState.Serving;

    /// <summary>The deferred second part of the destruction, while it is pending.</summary>
    public ITimer? DestroyTimer { get; set; }

    /// <summary>Where the vhost listens once bound: an IP endpoint, or a Unix socket (<see cref="System.Net.Sockets.UnixDomainSocketEndPoint"/>).</summary>
    public EndPoint? EndPoint { get; set; }

    /// <summary>The vhost's TLS certificate and client-certificate rules, when it serves TLS; disposed with the vhost.</summary>
    public Listeners.VhostTls? Tls { get; set; }

    public int SessionCount => _sessions.Count;

    /// <summary>Builds the vhost's static-file pipeline with the services of the listener that serves it, over the context's VFS.</summary>
    public void BuildHttpPipeline(IServiceProvider services, string baseDirectory, VirtualFileSystem vfs)
    {
        var app = new ApplicationBuilder(services);
        if (Options.HealthPath is { } health)
        {
            app.UseHealthChecks(health + "/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") });
            app.UseHealthChecks(health + "/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        }

        if (Observability is { } observability)
        {
            var allowed = (Options.ObservabilityAllowFrom ?? []).Select(a => Observability.TryParseAllowed(a, out var n) ? n : throw new LwsConfigurationException($"vhost '{Name}': observabilityAllowFrom: '{a}' is not an address or network.")).ToArray();
            UseObservability(app, Options.MetricsPath, allowed, observability.WriteMetricsAsync);
            UseObservability(app, Options.StatusPath, allowed, observability.WriteStatusAsync);
        }

        if (Options.AccessLog is { } accessLog)
        {
            AccessLog = new AccessLog(
                Path.Combine(baseDirectory, accessLog),
                new AccessLogRotation(Options.AccessLogRotateDaily, Options.AccessLogMaxBytes, Options.AccessLogKeepFiles),
                _accessLogDropped,
                Name);
        }

        MountPipeline.UsePathGuard(app);
        foreach (var (mount, index) in Options.Mounts.Select((m, i) => (m, i)).OrderByDescending(m => m.m.MountPoint.TrimEnd('/').Length))
        {
            if (mount.CallbackProtocol is { } callbackProtocol)
            {
                AddCallbackMount(app, mount, callbackProtocol, index);
            }
            else if (MountPipeline.Add(app, Name, mount, index, baseDirectory, vfs) is { } provider)
            {
                _fileProviders.Add(provider);
            }
        }

        app.Run(NotFound);
        _http = app.Build();
    }

    /// <summary>The client as the access log names it: its address, or <c>unix</c> on a Unix socket (which has none).</summary>
    private static string? Peer(HttpContext context)
        => context.Connection.RemoteIpAddress?.ToString()
           ?? (context.Features.Get<Listeners.ListenSocket>()?.EndPoint is System.Net.Sockets.UnixDomainSocketEndPoint ? "unix" : null);

    /// <summary>The request target as the client sent it (<c>/a%3ab.html</c>, <c>/../x</c>), not the decoded, normalised path.</summary>
    private static string RawTarget(HttpContext context)
        => context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : context.Request.Path + context.Request.QueryString;

    /// <summary>Answers <c>GET</c>/<c>HEAD</c> on exactly <paramref name="path"/> for allowed clients (403 for others).</summary>
    private static void UseObservability(ApplicationBuilder app, string? path, IPNetwork[] allowed, RequestDelegate answer)
    {
        if (path is null)
        {
            return;
        }

        app.Use(next => http =>
        {
            if (!http.Request.Path.Equals(path, StringComparison.Ordinal) || !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)))
            {
                return next(http);
            }

            if (!Observability.IsAllowed(http.Connection.RemoteIpAddress, allowed))
            {
                http.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            }

            return answer(http);
        });
    }

    private void SweepCallbacks()
    {
        foreach (var session in _sessions.Keys)
        {
            session.CheckCallbackDeadline(_callbackTimeout);
        }
    }

    private void SweepStalls()
    {
        var now = Time.GetTimestamp();
        var timeoutMs = Options.StallTimeoutMs;
        var timeout = (long)(timeoutMs * (Time.TimestampFrequency / 1000.0));
        foreach (var session in _sessions.Keys)
        {
            session.CheckStall(now, timeout, timeoutMs);
        }
    }

    private void AddCallbackMount(IApplicationBuilder app, MountOptions mount, string name, int index)
    {
        var protocol = Protocols.FirstOrDefault(p => p.Name == name)
            ?? throw new LwsConfigurationException($"vhost '{Name}': mounts[{index}].origin: '{mount.Origin}' names protocol '{name}', which the vhost does not list in its protocols.");
        if (protocol.Current is { Handler: not IHttpRequestHandler } current)
        {
            throw new LwsConfigurationException(
                $"vhost '{Name}': mounts[{index}].origin: protocol '{name}' (plugin '{current.PluginId}') does not handle HTTP requests: its handler does not implement LwsPlugins.Sdk.Http.IHttpRequestHandler.");
        }

        var mountPoint = mount.MountPoint == "/" ? PathString.Empty : new PathString(mount.MountPoint.TrimEnd('/'));
        var callback = new CallbackMount(this, protocol, mountPoint, _logger);
        app.Use((context, next) => context.Request.Path.StartsWithSegments(mountPoint, out var rest) ? callback.InvokeAsync(context, rest) : next(context));
    }

    public Task HandleAsync(HttpContext context)
    {
        if (context.WebSockets.IsWebSocketRequest)
        {
            return AcceptAsync(context);
        }

        // A request that asks for a WebSocket but is not a valid RFC 6455 handshake gets a precise refusal, not a page.
        return Handshake.Check(context.Request) is { } problem ? RefuseHandshakeAsync(context, problem) : ServeHttpAsync(context);
    }

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
        if (DestroyTimer is not null)
        {
            await DestroyTimer.DisposeAsync().ConfigureAwait(false);
        }

        if (_stallWatchdog is not null)
        {
            await _stallWatchdog.DisposeAsync().ConfigureAwait(false);
        }

        if (_callbackWatchdog is not null)
        {
            await _callbackWatchdog.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var provider in _fileProviders)
        {
            provider.Dispose();
        }

        if (AccessLog is not null)
        {
            await AccessLog.DisposeAsync().ConfigureAwait(false);
        }

        _limits.Dispose();
        Tls?.Dispose();
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

    /// <summary>
    /// Hot reload: new sessions of <paramref name="protocol"/> go to <paramref name="next"/> from now on (or the protocol
    /// becomes unavailable), and the previous instance retires. Its sessions move to the new code when both handlers
    /// support the SDK's state hand-over; otherwise they drain, or are closed with 1012 under the restart policy. Returns
    /// when the previous instance is disposed.
    /// </summary>
    public async Task ReplaceInstanceAsync(VhostProtocol protocol, ProtocolInstance? next, string? unavailableReason, PluginReloadPolicy policy)
    {
        var previous = protocol.Replace(next, unavailableReason);
        if (previous is null)
        {
            return;
        }

        var handedOver = next is not null && previous.Handler is IProtocolStateTransfer from && next.Handler is IProtocolStateTransfer to
            && await HandOverAsync(protocol, previous, next, from, to).ConfigureAwait(false);
        if (!handedOver && policy == PluginReloadPolicy.Restart)
        {
            CloseSessionsOf(previous);
        }

        var drained = previous.RetireAsync();
        var closeTimeout = TimeSpan.FromMilliseconds(Options.CloseTimeoutMs);
        var deadline = policy == PluginReloadPolicy.Restart ? closeTimeout : TimeSpan.FromMilliseconds(Options.DrainTimeoutMs);
        if (!await CompletesWithinAsync(drained, deadline).ConfigureAwait(false))
        {
            CloseSessionsOf(previous);
            if (!await CompletesWithinAsync(drained, closeTimeout).ConfigureAwait(false))
            {
                foreach (var session in SessionsOf(previous))
                {
                    session.Abort();
                }

                await drained.ConfigureAwait(false);
            }
        }

        try
        {
            await previous.DisposeHandlerAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.ProtocolDisposeFailed(_logger, ex, Name, previous.PluginId, protocol.Name);
        }

        protocol.Retired(previous);
    }

    private async Task<bool> HandOverAsync(VhostProtocol protocol, ProtocolInstance previous, ProtocolInstance next, IProtocolStateTransfer from, IProtocolStateTransfer to)
    {
        var paused = new List<WebSocketSession>();
        foreach (var session in SessionsOf(previous))
        {
            // A session stuck in a callback for the whole close timeout stays on the old code and drains.
            if (await session.PauseAsync(TimeSpan.FromMilliseconds(Options.CloseTimeoutMs)).ConfigureAwait(false))
            {
                paused.Add(session);
            }
        }

        try
        {
            if (from.ExportState() is not { } state)
            {
                // The plugin declined: its sessions drain or restart per policy.
                foreach (var session in paused)
                {
                    session.Resume();
                }

                return false;
            }

            to.ImportState(state, paused);
        }
        catch (Exception ex)
        {
            Log.HandOverFailed(_logger, ex, Name, protocol.Name);
            foreach (var session in paused)
            {
                session.Resume();
            }

            return false;
        }

        foreach (var session in paused)
        {
            session.MoveToAndResume(next);
        }

        return true;
    }

    private void CloseSessionsOf(ProtocolInstance instance)
    {
        foreach (var session in SessionsOf(instance))
        {
            session.Close(ServiceRestart, "plugin reloaded");
        }
    }

    private IEnumerable<WebSocketSession> SessionsOf(ProtocolInstance instance) => _sessions.Keys.Where(s => s.Instance == instance);

    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout, Time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
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

            body = AccessLog is null ? null : ResponseBodyCounter.Install(context);
            await _http(context).ConfigureAwait(false);
        }
        finally
        {
            _requests.TryRemove(context, out _);
            done.TrySetResult();
            var request = context.Request;
            AccessLog?.Request(
                Peer(context), Time.GetUtcNow(), request.Method, RawTarget(context), request.Protocol,
                context.Response.StatusCode, body?.Written ?? 0, request.Headers.Referer.ToString() is { Length: > 0 } referer ? referer : null, request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null);
        }
    }

    private Task AcceptAsync(HttpContext context)
    {
        if (State != VhostState.Serving && Reroute is { } reroute)
        {
            return reroute(context);
        }

        var protocol = Negotiate(context.WebSockets.WebSocketRequestedProtocols, out var refusal, out var status);
        var instance = protocol?.Current;
        var address = context.Features.Get<IHttpConnectionFeature>()?.RemoteIpAddress;
        IDisposable? admission = null;
        var problem = protocol is null ? new HandshakeProblem(status, refusal!, [], "unknown_protocol")
            : instance is null ? new HandshakeProblem(
                StatusCodes.Status503ServiceUnavailable, $"protocol '{protocol.Name}' is unavailable on vhost '{Name}': {protocol.UnavailableReason}", [], "unavailable")
            : State != VhostState.Serving ? new HandshakeProblem(StatusCodes.Status503ServiceUnavailable, $"vhost '{Name}' is being destroyed.", [], "destroying")
            : _limits.TryAdmit(protocol, address, out admission);
        if (problem is not null || protocol is null || instance is null)
        {
            return RefuseHandshakeAsync(context, problem!);
        }

        // The session's slots are held from admission to its end, whether the upgrade completes or not. The 101 response
        // is usually written at once: then the request's task is the session's own, and no state machine of this method
        // stays parked for the session's life (bench/RESULTS.md, idle memory).
        Task<WebSocket> accepting;
        try
        {
            accepting = context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = protocol == VhostProtocol.None ? null : protocol.Name,
                DangerousEnableCompression = instance.PerMessageDeflate,
                KeepAliveInterval = TimeSpan.FromMilliseconds(Options.PingIntervalMs),
                KeepAliveTimeout = Options.PongTimeoutMs > 0 ? TimeSpan.FromMilliseconds(Options.PongTimeoutMs) : Timeout.InfiniteTimeSpan,
            });
        }
        catch
        {
            admission?.Dispose();
            throw;
        }

        // A handshake that completed at once starts its session without an async frame that would live as long as it.
#pragma warning disable RS0030 // Result of a task that has completed: does not block.
        return accepting.IsCompletedSuccessfully
            ? StartSession(context, accepting.Result, protocol, instance, admission)
            : AcceptSlowlyAsync(context, accepting, protocol, instance, admission);
#pragma warning restore RS0030
    }

    private async Task AcceptSlowlyAsync(HttpContext context, Task<WebSocket> accepting, VhostProtocol protocol, ProtocolInstance instance, IDisposable? admission)
    {
        WebSocket socket;
        try
        {
            socket = await accepting.ConfigureAwait(false);
        }
        catch
        {
            admission?.Dispose();
            throw;
        }

        await StartSession(context, socket, protocol, instance, admission).ConfigureAwait(false);
    }

    /// <summary>Runs an accepted session; it releases its socket and admission and calls <see cref="SessionEnded"/> when it ends.</summary>
    private Task StartSession(HttpContext context, WebSocket socket, VhostProtocol protocol, ProtocolInstance instance, IDisposable? admission)
    {
        Traffic.Metrics.Handshakes.Add(1, Traffic.VhostTag, new("result", "accepted"), new("reason", "ok"));
        var session = new WebSocketSession(socket, context, this, protocol, instance, admission, _logger);
        _sessions.TryAdd(session, 0);
        if (State != VhostState.Serving)
        {
            // Destruction began between negotiation and now: its sweep may not have seen this session.
            session.Close(WebSocketCloseStatus.EndpointUnavailable, "vhost destroyed");
        }

        StatusChanged();
        return session.RunAsync();
    }

    /// <summary>A session has ended (called once, by the session, after it released its socket and admission).</summary>
    public void SessionEnded(WebSocketSession session, HttpContext context)
    {
        _sessions.TryRemove(session, out _);

        // Pairs with the barrier in StopAsync: either it sees this removal, or this sees its drain.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _drained) is { } drained && _sessions.IsEmpty)
        {
            drained.TrySetResult();
        }

        StatusChanged();
        AccessLog?.WebSocket(
            Peer(context), session.ConnectedAt, Time.GetUtcNow(), RawTarget(context), context.Request.Protocol, session.UserAgent,
            session.Protocol, session.BytesIn, session.BytesOut);
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
        var protocols = _protocols;
        foreach (var name in requested)
        {
            foreach (var protocol in protocols)
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
            return unavailable;
        }

        refusal = $"vhost '{Name}' serves none of the requested WebSocket subprotocols ({string.Join(", ", requested)}).";
        return null;
    }

    private async Task RefuseHandshakeAsync(HttpContext context, HandshakeProblem problem)
    {
        Log.UpgradeRefused(_logger, Name, context.Connection.RemoteIpAddress?.ToString(), problem.Reason);
        Traffic.Metrics.Handshakes.Add(1, Traffic.VhostTag, new("result", "refused"), new("reason", problem.MetricReason));
        context.Response.StatusCode = problem.Status;

        // As lws does, a refused handshake ends its connection: a client that wanted a WebSocket has no next request,
        // and a flood of refused handshakes must not hold connections for the keep-alive time.
        context.Response.Headers.Connection = "close";
        foreach (var (name, value) in problem.Headers)
        {
            context.Response.Headers[name] = value;
        }

        await context.Response.WriteAsync(problem.Reason).ConfigureAwait(false);
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }
}
