namespace LwsPlugins.Sdk.Files;

/// <summary>What the host tells an <see cref="IFileProviderPlugin"/> when it creates the provider.</summary>
public sealed class FileProviderPluginContext
{
    /// <summary>Creates the context.</summary>
    /// <param name="pluginId">The plugin's id.</param>
    /// <param name="pluginDirectory">The plugin's folder (holding its manifest and assembly).</param>
    /// <param name="prefix">The VFS prefix the provider serves.</param>
    public FileProviderPluginContext(string pluginId, string pluginDirectory, string prefix)
    {
        PluginId = pluginId;
        PluginDirectory = pluginDirectory;
        Prefix = prefix;
    }

    /// <summary>The plugin's id.</summary>
    public string PluginId { get; }

    /// <summary>The plugin's folder, an absolute path (the files the plugin ships beside its assembly are here).</summary>
    public string PluginDirectory { get; }

    /// <summary>The VFS prefix the provider serves, e.g. <c>/bundle</c>.</summary>
    public string Prefix { get; }
}
