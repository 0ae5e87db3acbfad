using LwsPlugins.Host.Vhosts;

namespace LwsPlugins.Host.Configuration;

/// <summary>
/// Marks each vhost's protocol options with where they are written (the file, and the line of each key), so an option
/// that does not bind, checked only when the plugin's options type is known, is told with its file and line like every
/// other configuration error.
/// </summary>
internal static class ProtocolOptionSources
{
    /// <summary>Marks the protocol options of the vhosts in <paramref name="parsed"/> (a server file, a vhost, or a list of them).</summary>
    public static void Mark(object? parsed, ConfigurationJsonText read, string source)
    {
        switch (parsed)
        {
            case LwsServerOptions { Vhosts: { } vhosts }:
                Mark(vhosts, i => $"$.vhosts[{i}]", read, source);
                break;
            case IList<VhostOptions> vhosts:
                Mark(vhosts, i => $"$[{i}]", read, source);
                break;
            case VhostOptions vhost:
                Mark([vhost], _ => "$", read, source);
                break;
        }
    }

    private static void Mark(IList<VhostOptions> vhosts, Func<int, string> pathOf, ConfigurationJsonText read, string source)
    {
        for (var i = 0; i < vhosts.Count; i++)
        {
            foreach (var selection in vhosts[i]?.Protocols ?? [])
            {
                if (selection?.Options is not null)
                {
                    var path = ConfigurationJsonText.Append(pathOf(i) + ".protocols", selection.Name);
                    selection.Lines = new ProtocolOptionLines(source, read.LinesUnder(path));
                }
            }
        }
    }
}
