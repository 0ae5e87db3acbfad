using System.Net;

namespace LwsPlugins.Sdk.Http;

/// <summary>One HTTP request to a <c>callback://</c> mount and its response, as an <see cref="IHttpRequestHandler"/> sees them.</summary>
public interface IHttpExchange
{
    /// <summary>The name of the vhost that received the request.</summary>
    string VhostName { get; }

    /// <summary>The request method, e.g. <c>GET</c>.</summary>
    string Method { get; }

    /// <summary>The mount point the request came in under, e.g. <c>/api</c> (empty for a mount at <c>/</c>).</summary>
    string MountPoint { get; }

    /// <summary>The request path below the mount point, starting with <c>/</c> (just <c>/</c> for the mount point itself).</summary>
    string Path { get; }

    /// <summary>The raw query string with its leading <c>?</c>, or empty.</summary>
    string QueryString { get; }

    /// <summary>The client's address and port.</summary>
    IPEndPoint? RemoteEndPoint { get; }

    /// <summary>The request body (empty for a request without one). Read it before writing the response.</summary>
    Stream RequestBody { get; }

    /// <summary>The response status code; 200 unless set before the response starts.</summary>
    int StatusCode { get; set; }

    /// <summary>Whether the response headers have been sent: status and headers can no longer change.</summary>
    bool HasStarted { get; }

    /// <summary>The response body; writing to it starts the response.</summary>
    Stream ResponseBody { get; }

    /// <summary>A request header's value (several values joined with commas), or <see langword="null"/> when absent.</summary>
    /// <param name="name">The header name, case-insensitive.</param>
    /// <returns>The value, or <see langword="null"/>.</returns>
    string? GetRequestHeader(string name);

    /// <summary>A query parameter's first value, or <see langword="null"/> when absent.</summary>
    /// <param name="name">The parameter name.</param>
    /// <returns>The value, or <see langword="null"/>.</returns>
    string? GetQueryParameter(string name);

    /// <summary>Sets a response header, replacing any value it had.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="InvalidOperationException">The response has started.</exception>
    void SetResponseHeader(string name, string value);
}
