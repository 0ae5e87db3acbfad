using System.Text.Json;

namespace LwsPlugins.Host.Configuration;

/// <summary>A protocol a vhost serves, with its per-vhost options (lws: <c>pvo</c>).</summary>
/// <param name="Name">The subprotocol name, or <see cref="AllPlugins"/>.</param>
/// <param name="Options">A JSON object overlaid on the manifest's default options, or <see langword="null"/>.</param>
public sealed record ProtocolSelection(string Name, JsonElement? Options = null)
{
    /// <summary>
    /// The entry <c>"*"</c>: every protocol of every loaded plugin that the list does not name, with its manifest's
    /// default options, following the plugins folder live. A vhost with no <c>protocols</c> at all serves the same set,
    /// as lws serves every plugin on a vhost without per-vhost options.
    /// </summary>
    public const string AllPlugins = "*";

    /// <summary>Whether this entry is <see cref="AllPlugins"/>.</summary>
    public bool IsAllPlugins => Name == AllPlugins;

    /// <summary>Where the options are written (file and line of each key), when they were read from a file.</summary>
    internal Vhosts.ProtocolOptionLines? Lines { get; set; }
}
