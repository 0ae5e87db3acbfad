namespace LwsPlugins.Host.Configuration;

/// <summary>A static-file mount: requests under <see cref="MountPoint"/> are served from the folder <see cref="Origin"/>.</summary>
public sealed class MountOptions
{
    /// <summary>The URL path prefix, e.g. <c>/</c> or <c>/docs</c>.</summary>
    public string MountPoint { get; set; } = "/";

    /// <summary>The folder served; relative paths are relative to the server's base directory.</summary>
    public string Origin { get; set; } = "";

    /// <summary>Files served for a request of a folder, tried in order (lws's test server uses <c>test.html</c>).</summary>
    public IList<string> DefaultDocuments { get; set; } = ["index.html", "test.html"];
}
