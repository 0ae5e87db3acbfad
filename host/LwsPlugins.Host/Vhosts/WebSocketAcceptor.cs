using System.Net.WebSockets;
using LwsPlugins.Host.Logging;
using LwsPlugins.Host.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A vhost's WebSocket handshakes: the strict checks of a request that asks for a WebSocket, subprotocol negotiation,
/// admission under the session limits, the accept, and the start and end of the session (metrics, status, access log).
/// It reads the request through <see cref="IUpgradeRequest"/>, so Kestrel's HTTP pipeline and the fast path share it.
/// The vhost keeps the set of its sessions (<see cref="Vhost.Track"/>, <see cref="Vhost.Untrack"/>).
/// </summary>
internal sealed class WebSocketAcceptor(Vhost vhost, SessionLimits limits, ILogger logger)
{
    /// <summary>
    /// Takes a request of Kestrel's HTTP pipeline that is a WebSocket handshake, valid or not; returns
    /// <see langword="null"/> for every other request (the vhost serves it as HTTP).
    /// </summary>
    public Task? TryAccept(HttpContext context)
    {
        if (context.WebSockets.IsWebSocketRequest)
        {
            if (context.Features.Get<DecidedRefusal>()?.Take() is { } decided)
            {
                return RefuseAsync(new KestrelUpgradeRequest(context), decided);
            }

            return vhost.State != VhostState.Serving && vhost.Reroute is { } reroute ? reroute(context) : AcceptAsync(new KestrelUpgradeRequest(context));
        }

        // A request that asks for a WebSocket but is not a valid RFC 6455 handshake gets a precise refusal, not a page.
        return Handshake.Check(context.Request) is { } problem ? RefuseAsync(new KestrelUpgradeRequest(context), problem) : null;
    }

    /// <summary>Negotiates, admits and accepts a well-formed handshake, or refuses it.</summary>
    public Task AcceptAsync(IUpgradeRequest request)
        => Admit(request, out var protocol, out var instance, out var admission) is { } problem
            ? RefuseAsync(request, problem)
            : Accept(request, protocol!, instance!, admission);

    /// <summary>
    /// The fast path's accept: the session's task for a handshake this acceptor accepts as it is, else
    /// <see langword="null"/> with nothing sent, logged or counted, so Kestrel's pipeline answers the same request. A
    /// protocol that would negotiate extensions the client offers is left to the pipeline too. When the vhost's limits
    /// refused the handshake, <paramref name="refusal"/> is their verdict, for the pipeline to answer with.
    /// </summary>
    public Task? TryAcceptAsync(IUpgradeRequest request, bool offersExtensions, out HandshakeProblem? refusal)
    {
        refusal = null;
        var protocol = Negotiate(request.RequestedProtocols, out _, out _);
        if (protocol?.Current is not { } instance || vhost.State != VhostState.Serving || (offersExtensions && instance.PerMessageDeflate))
        {
            return null;
        }

        if (limits.TryAdmit(protocol, request.RemoteAddress, out var admission) is { } problem)
        {
            refusal = problem;
            return null;
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.UpgradeOnFastPath(logger, vhost.Name, request.RemoteAddress?.ToString());
        }

        return Accept(request, protocol, instance, admission);
    }

    private HandshakeProblem? Admit(IUpgradeRequest request, out VhostProtocol? protocol, out ProtocolInstance? instance, out IDisposable? admission)
    {
        protocol = Negotiate(request.RequestedProtocols, out var refusal, out var status);
        instance = protocol?.Current;
        admission = null;
        return protocol is null ? new HandshakeProblem(status, refusal!, [], "unknown_protocol")
            : instance is null ? new HandshakeProblem(
                StatusCodes.Status503ServiceUnavailable, $"protocol '{protocol.Name}' is unavailable on vhost '{vhost.Name}': {protocol.UnavailableReason}", [], "unavailable")
            : vhost.State != VhostState.Serving ? new HandshakeProblem(StatusCodes.Status503ServiceUnavailable, $"vhost '{vhost.Name}' is being destroyed.", [], "destroying")
            : limits.TryAdmit(protocol, request.RemoteAddress, out admission);
    }

    private Task Accept(IUpgradeRequest request, VhostProtocol protocol, ProtocolInstance instance, IDisposable? admission)
    {
        // The session's slots are held from admission to its end, whether the upgrade completes or not. The 101 response
        // is usually written at once: then the request's task is the session's own, and no state machine of this method
        // stays parked for the session's life (bench/RESULTS.md, idle memory).
        Task<WebSocket> accepting;
        var options = vhost.Options;
        try
        {
            accepting = request.AcceptAsync(new WebSocketAcceptContext
            {
                SubProtocol = protocol == VhostProtocol.None ? null : protocol.Name,
                DangerousEnableCompression = instance.PerMessageDeflate,
                KeepAliveInterval = TimeSpan.FromMilliseconds(options.PingIntervalMs),
                KeepAliveTimeout = options.PongTimeoutMs > 0 ? TimeSpan.FromMilliseconds(options.PongTimeoutMs) : Timeout.InfiniteTimeSpan,
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
            ? StartSession(request, accepting.Result, protocol, instance, admission)
            : AcceptSlowlyAsync(request, accepting, protocol, instance, admission);
#pragma warning restore RS0030
    }

    private async Task AcceptSlowlyAsync(IUpgradeRequest request, Task<WebSocket> accepting, VhostProtocol protocol, ProtocolInstance instance, IDisposable? admission)
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

        await StartSession(request, socket, protocol, instance, admission).ConfigureAwait(false);
    }

    /// <summary>Runs an accepted session; it releases its socket and admission and calls <see cref="SessionEnded"/> when it ends.</summary>
    private Task StartSession(IUpgradeRequest request, WebSocket socket, VhostProtocol protocol, ProtocolInstance instance, IDisposable? admission)
    {
        var traffic = vhost.Traffic;
        traffic.Metrics.Handshakes.Add(1, traffic.VhostTag, new("result", "accepted"), new("reason", "ok"));
        var session = new WebSocketSession(socket, request, vhost, protocol, instance, admission, logger);
        vhost.Track(session);
        if (vhost.State != VhostState.Serving)
        {
            // Destruction began between negotiation and now: its sweep may not have seen this session.
            session.Close(WebSocketCloseStatus.EndpointUnavailable, "vhost destroyed");
        }

        vhost.StatusChanged();
        return session.RunAsync();
    }

    /// <summary>A session has ended (called once, by the session, after it released its socket and admission).</summary>
    public void SessionEnded(WebSocketSession session, IUpgradeRequest request)
    {
        vhost.Untrack(session);
        vhost.StatusChanged();
        vhost.AccessLog?.WebSocket(
            request.RemoteAddress?.ToString() ?? "unix", session.ConnectedAt, vhost.Time.GetUtcNow(), request.RawTarget, request.Protocol, session.UserAgent,
            session.Protocol, session.BytesIn, session.BytesOut);
    }

    /// <summary>
    /// lws's choice: the first protocol the client names that the vhost serves, by exact, case-sensitive name. A request
    /// naming none is bound to the vhost's default (no plugin); one naming only unknown protocols is refused.
    /// </summary>
    public VhostProtocol? Negotiate(IList<string> requested, out string? refusal, out int status)
    {
        refusal = null;
        status = StatusCodes.Status400BadRequest;
        if (requested.Count == 0)
        {
            return VhostProtocol.None;
        }

        VhostProtocol? unavailable = null;
        var protocols = vhost.Protocols;
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

        refusal = $"vhost '{vhost.Name}' serves none of the requested WebSocket subprotocols ({string.Join(", ", requested)}).";
        return null;
    }

    private Task RefuseAsync(IUpgradeRequest request, HandshakeProblem problem)
    {
        Log.UpgradeRefused(logger, vhost.Name, request.RemoteAddress?.ToString(), problem.Reason);
        var traffic = vhost.Traffic;
        traffic.Metrics.Handshakes.Add(1, traffic.VhostTag, new("result", "refused"), new("reason", problem.MetricReason));
        return request.RefuseAsync(problem);
    }
}
