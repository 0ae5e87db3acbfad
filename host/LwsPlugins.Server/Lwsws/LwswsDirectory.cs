using LwsPlugins.Host.Configuration;

namespace LwsPlugins.Server.Lwsws;

/// <summary>
/// An lwsws configuration folder (<c>--lwsws-config DIR</c>): <c>DIR/conf</c> with <c>global</c> (and possibly
/// vhosts), <c>DIR/conf.d/*</c> with vhosts, read as lwsws reads them. The server-wide settings come from here at start;
/// the vhosts are created and kept live by the live configuration, which reads the same files through
/// <see cref="LwswsLiveFiles"/>.
/// </summary>
internal static class LwswsDirectory
{
    public const string MainFile = "conf";
    public const string VhostFolder = "conf.d";

    /// <summary>Reads the folder at start: the server-wide options, and every key of every file that has no equivalent.</summary>
    /// <exception cref="LwsConfigurationException">A file is missing or not lwsws JSON; the message names it.</exception>
    public static (LwsServerOptions Options, IReadOnlyList<string> Unsupported) Load(string directory)
    {
        var conf = Path.Combine(directory, MainFile);
        if (!File.Exists(conf))
        {
            throw new LwsConfigurationException($"--lwsws-config: '{directory}' has no '{MainFile}' file (lwsws reads DIR/{MainFile} and DIR/{VhostFolder}/*).");
        }

        var main = Read(conf);
        var unsupported = new List<string>(main.Unsupported);
        foreach (var file in VhostFiles(directory))
        {
            unsupported.AddRange(Read(file).Unsupported);
        }

        var options = new LwsServerOptions
        {
            ConfD = Directory.Exists(Path.Combine(directory, VhostFolder)) ? VhostFolder : null,
            User = main.Global?.User,
            Group = main.Global?.Group,
        };
        if (main.Global?.PluginDir is { } plugins)
        {
            options.PluginsPath = Path.GetFullPath(plugins, directory);
        }

        return (options, unsupported);
    }

    /// <summary>The vhosts of one lwsws file, the translation alone (what <see cref="LwswsLiveFiles"/> reads, without naming unsupported keys).</summary>
    public static IReadOnlyList<VhostOptions> ParseVhosts(string text, string file) => LwswsTranslator.Parse(text, file).Vhosts;

    /// <summary>The conf.d files lwsws would read, in order (editor and hidden files skipped, as the live configuration does).</summary>
    private static IEnumerable<string> VhostFiles(string directory)
    {
        var folder = Path.Combine(directory, VhostFolder);
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder).Where(f => Path.GetFileName(f) is var name && !name.StartsWith('.') && !name.EndsWith('~') && !name.EndsWith(".swp", StringComparison.Ordinal) && !name.EndsWith(".tmp", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            : [];
    }

    private static LwswsFile Read(string file)
    {
        try
        {
            return LwswsTranslator.Parse(File.ReadAllText(file), file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LwsConfigurationException($"{file}: cannot read: {ex.Message}", ex);
        }
    }
}
