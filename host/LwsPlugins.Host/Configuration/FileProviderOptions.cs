namespace LwsPlugins.Host.Configuration;

/// <summary>
/// A VFS provider (lws: an entry of the context's <c>fops</c> with its <c>path_prefix</c>): VFS paths under
/// <see cref="Prefix"/> are served from a .zip archive or from a folder. Exactly one of <see cref="Zip"/> and
/// <see cref="Folder"/> is set.
/// </summary>
public sealed class FileProviderOptions
{
    /// <summary>The VFS path prefix, e.g. <c>/bundle</c>; the provider with the longest matching prefix serves a path.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>A .zip archive whose entries are served; relative paths are relative to the server's base directory.</summary>
    public string? Zip { get; set; }

    /// <summary>A folder whose files are served; relative paths are relative to the server's base directory.</summary>
    public string? Folder { get; set; }
}
