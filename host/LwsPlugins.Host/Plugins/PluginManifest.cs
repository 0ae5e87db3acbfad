using System.Text.Json;
using NuGet.Versioning;

namespace LwsPlugins.Host.Plugins;

/// <summary>A validated plugin manifest (<c>&lt;plugin-id&gt;.json</c> beside the plugin's assembly).</summary>
internal sealed record PluginManifest(
    string Id,
    string Assembly,
    NuGetVersion Version,
    VersionRange SdkRange,
    IReadOnlyList<ManifestProtocol> Protocols,
    string FilePath,
    LwsPlugins.Host.Configuration.PluginReloadPolicy? ReloadPolicy = null)
{
    /// <summary>The VFS prefixes the plugin's file providers serve (manifest <c>fileProviders</c>).</summary>
    public IReadOnlyList<string> FileProviders { get; init; } = [];

    public string Directory => Path.GetDirectoryName(FilePath)!;

    public string AssemblyPath => Path.Combine(Directory, Assembly);
}

/// <summary>A protocol a manifest declares, with its default options (a JSON object or <see langword="null"/>).</summary>
internal sealed record ManifestProtocol(string Name, JsonElement? DefaultOptions);
