namespace LwsPlugins.Tests.Common;

/// <summary>A temporary plugins folder composed from built plugin folders and hand-made ones; deleted on dispose.</summary>
public sealed class PluginFolder : IDisposable
{
    public PluginFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lws-plugins-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Copies a deployed plugin, e.g. <c>CopyFrom(LoopbackServer.BundledPluginsPath, "mirror")</c>.</summary>
    public PluginFolder CopyFrom(string pluginsPath, string pluginId)
    {
        CopyTree(System.IO.Path.Combine(pluginsPath, pluginId), System.IO.Path.Combine(Path, pluginId));
        return this;
    }

    /// <summary>Copies every file below <paramref name="source"/> to the same place below <paramref name="target"/>, overwriting (a deploy).</summary>
    public static void CopyTree(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    /// <summary>Writes a file into a plugin's folder (created if needed).</summary>
    public string WriteFile(string pluginFolder, string fileName, string content)
    {
        var directory = System.IO.Path.Combine(Path, pluginFolder);
        Directory.CreateDirectory(directory);
        var file = System.IO.Path.Combine(directory, fileName);
        File.WriteAllText(file, content);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A load context may still map a file; the OS temp cleaner takes it later.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
