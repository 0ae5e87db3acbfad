using Microsoft.Extensions.FileProviders;

namespace LwsPlugins.Sdk.Files;

/// <summary>
/// A plugin's file-operations provider for the server's virtual file system (lws: a <c>fops</c> entry with its
/// <c>path_prefix</c>). Mark the class with <see cref="ExportFileProviderAttribute"/> and declare the prefix in the
/// manifest's <c>fileProviders</c>. The host asks for the provider when it loads the plugin, serves the prefix from it
/// (the longest matching prefix wins), and drops it when that generation is replaced or the plugin removed; a provider
/// that implements <see cref="IDisposable"/> is disposed then.
/// </summary>
public interface IFileProviderPlugin
{
    /// <summary>Creates the provider; called once per loaded generation of the plugin.</summary>
    /// <param name="context">Where the plugin lives and the prefix it serves.</param>
    /// <returns>The provider; paths it sees are relative to the prefix (e.g. <c>/docs/a.txt</c> under <c>/bundle</c> arrives as <c>/docs/a.txt</c>).</returns>
    IFileProvider CreateFileProvider(FileProviderPluginContext context);
}
