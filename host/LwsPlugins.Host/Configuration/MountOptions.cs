using System.Text.Json.Serialization;

namespace LwsPlugins.Host.Configuration;

/// <summary>
/// A mount (lws: <c>lws_http_mount</c>): requests under <see cref="MountPoint"/> are served from <see cref="Origin"/>,
/// or redirected to <see cref="Redirect"/>.
/// </summary>
public sealed class MountOptions
{
    /// <summary>The origin scheme of a mount whose requests go to a protocol plugin's HTTP handler (lws: <c>LWSMPRO_CALLBACK</c>).</summary>
    public const string CallbackScheme = "callback://";

    /// <summary>The URL path prefix, e.g. <c>/</c> or <c>/docs</c>.</summary>
    [System.Text.Json.Serialization.JsonRequired]
    public string MountPoint { get; set; } = "/";

    /// <summary>
    /// What is served: a folder (relative paths are relative to the server's base directory), or <c>file://</c> and a
    /// VFS path (e.g. <c>file:///bundle/docs</c>; a path no VFS provider's prefix matches is a folder), or
    /// <c>callback://&lt;protocol&gt;</c>: every request under the mount goes to that protocol's HTTP handler (the protocol
    /// must be one the vhost lists, and its handler must implement the SDK's <c>IHttpRequestHandler</c>). Not set for a
    /// redirect.
    /// </summary>
    public string Origin { get; set; } = "";

    /// <summary>The protocol a <c>callback://</c> mount hands its requests to; <see langword="null"/> for other mounts.</summary>
    [JsonIgnore]
    public string? CallbackProtocol => Origin?.StartsWith(CallbackScheme, StringComparison.Ordinal) == true ? Origin[CallbackScheme.Length..] : null;

    /// <summary>Files served for a request of a folder, tried in order (lws's test server uses <c>test.html</c>).</summary>
    public IList<string> DefaultDocuments { get; set; } = ["index.html", "test.html"];

    /// <summary>A redirect mount (lws: <c>LWSMPRO_REDIR</c>): every request under the mount point is sent to this URL.</summary>
    public string? Redirect { get; set; }

    /// <summary>The redirect's status: 301 (moved permanently, the default) or 302 (found).</summary>
    public int RedirectStatus { get; set; } = 301;

    /// <summary>The <c>Cache-Control</c> header value sent with the mount's files, e.g. <c>max-age=3600</c>; none when unset.</summary>
    public string? CacheControl { get; set; }

    /// <summary>Extra MIME types by extension, e.g. <c>{ ".wasm": "application/wasm" }</c>; a file whose extension has no type is refused with 415.</summary>
    public IDictionary<string, string> MimeTypes { get; set; } = new Dictionary<string, string>();
}
