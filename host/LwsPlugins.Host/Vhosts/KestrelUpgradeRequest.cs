using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Host.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// A WebSocket request that came through Kestrel's HTTP pipeline: read from its <see cref="HttpContext"/>, which stays
/// valid until the session ends (the request's task is the session's). Kestrel's connection feature is read, not
/// <see cref="HttpContext.Connection"/>, which allocates a wrapper that would be kept for the session's life.
/// </summary>
internal sealed class KestrelUpgradeRequest(HttpContext context) : IUpgradeRequest
{
    public IPAddress? RemoteAddress => context.Features.Get<IHttpConnectionFeature>()?.RemoteIpAddress;

    public int RemotePort => context.Features.Get<IHttpConnectionFeature>()?.RemotePort ?? 0;

    public string Path => context.Request.Path.Value ?? "/";

    public string QueryString => context.Request.QueryString.Value ?? "";

    public string RawTarget => RawTargetOf(context);

    /// <summary>The request target as the client sent it (<c>/a%3ab.html</c>, <c>/../x</c>), not the decoded, normalised path.</summary>
    public static string RawTargetOf(HttpContext context)
        => context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : context.Request.Path + context.Request.QueryString;

    public string Protocol => context.Request.Protocol;

    public string? UserAgent => context.Request.Headers.UserAgent.Count == 0 ? null : context.Request.Headers.UserAgent.ToString();

    public IList<string> RequestedProtocols => context.WebSockets.WebSocketRequestedProtocols;

    /// <summary>The frame guard and lifetime the listener installed for an HTTP/1.1 upgrade (none on HTTP/2).</summary>
    private UpgradedConnectionLifetime? Lifetime
        => context.Features.Get<IHttpUpgradeFeature>() as UpgradedConnectionLifetime ?? context.Features.Get<IHttpExtendedConnectFeature>() as UpgradedConnectionLifetime;

    public string? GetHeader(string name) => context.Request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;

    public Task<WebSocket> AcceptAsync(WebSocketAcceptContext accept) => context.WebSockets.AcceptWebSocketAsync(accept);

    public async Task RefuseAsync(HandshakeProblem problem)
    {
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

    public void ForceNextAbort() => Lifetime?.Force();

    public ValueTask FlushAsync() => Lifetime?.Guard is { } guard ? guard.FlushQuietlyAsync() : default;
}
