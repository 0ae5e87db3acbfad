using System.Text.Json;

namespace LwsPlugins.Host.Vhosts;

/// <summary>A value of the merged options: a JSON value, or an object's members (merged across layers).</summary>
/// <param name="Key">The key as the layer that gave the value wrote it.</param>
/// <param name="Value">The JSON value (for an object, the last layer's object).</param>
/// <param name="Layer">The layer that gave the value.</param>
/// <param name="Members">An object's members by key (case-insensitive), or <see langword="null"/> for any other value.</param>
/// <param name="Path">The dotted key path from the options' root, as the user wrote it.</param>
internal sealed record ProtocolOptionNode(string Key, JsonElement Value, ProtocolOptionsLayer Layer, Dictionary<string, ProtocolOptionNode>? Members, string Path = "")
{
    /// <summary>A message about this value, naming its layer, key, file and line.</summary>
    public string Say(string what) => Layer.Say(Path, what);
}
