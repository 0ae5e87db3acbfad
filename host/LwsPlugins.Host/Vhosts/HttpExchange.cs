using System.Net;
using LwsPlugins.Sdk.Http;
using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// The SDK's view of one ASP.NET Core request under a <c>callback://</c> mount. Once the host has answered for a handler
/// that timed out, the exchange is detached: the handler's late calls throw instead of touching a request Kestrel reuses.
/// </summary>
internal sealed class HttpExchange(HttpContext context, string vhostName, PathString mountPoint, PathString path) : IHttpExchange
{
    private volatile bool _detached;

    private HttpContext Context => _detached ? throw new ObjectDisposedException(nameof(IHttpExchange), "the request timed out and was answered by the host.") : context;

    public string VhostName => vhostName;

    public string Method => Context.Request.Method;

    public string MountPoint => mountPoint.Value ?? "";

    public string Path => path.HasValue ? path.Value! : "/";

    public string QueryString => Context.Request.QueryString.Value ?? "";

    public IPEndPoint? RemoteEndPoint
        => Context.Connection.RemoteIpAddress is { } address ? new IPEndPoint(address, Context.Connection.RemotePort) : null;

    public Stream RequestBody => Context.Request.Body;

    public int StatusCode
    {
        get => Context.Response.StatusCode;
        set => Context.Response.StatusCode = value;
    }

    public bool HasStarted => Context.Response.HasStarted;

    public Stream ResponseBody => Context.Response.Body;

    public string? GetRequestHeader(string name)
        => Context.Request.Headers.TryGetValue(name, out var values) ? values.ToString() : null;

    public string? GetQueryParameter(string name)
        => Context.Request.Query.TryGetValue(name, out var values) ? values[0] : null;

    public void SetResponseHeader(string name, string value)
    {
        if (Context.Response.HasStarted)
        {
            throw new InvalidOperationException($"the response has started: header '{name}' can no longer be set.");
        }

        Context.Response.Headers[name] = value;
    }

    public void Detach() => _detached = true;
}
