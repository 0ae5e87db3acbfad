using System.Text.Json;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// The layers of a protocol's options (the manifest's defaults, then the vhost's) merged into one tree before it is
/// bound: objects merge key by key (recursively), anything else given by a later layer replaces what an earlier one gave,
/// so a vhost can shorten a default list or set a default back to <c>null</c>. Every value keeps the layer it came from,
/// so a message names the file or vhost that wrote it.
/// </summary>
internal static class ProtocolOptionsLayers
{
    /// <summary>Merges the layers in order; a layer that is not an object is skipped (the caller refuses it earlier).</summary>
    /// <exception cref="Sdk.ProtocolOptionsException">A layer gives one key twice (differing only in case).</exception>
    public static ProtocolOptionNode Merge(IEnumerable<ProtocolOptionsLayer> layers)
    {
        var root = new ProtocolOptionNode("", default, new ProtocolOptionsLayer(null, "", null), new Dictionary<string, ProtocolOptionNode>(StringComparer.OrdinalIgnoreCase));
        foreach (var layer in layers)
        {
            if (layer.Json is { ValueKind: JsonValueKind.Object } json)
            {
                MergeInto(root.Members!, json, layer, "");
            }
        }

        return root;
    }

    /// <summary>One layer's value as a node of the tree (an array's elements, which are never merged, included).</summary>
    public static ProtocolOptionNode FromElement(string key, JsonElement value, ProtocolOptionsLayer layer, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return new ProtocolOptionNode(key, value, layer, null, path);
        }

        var members = new Dictionary<string, ProtocolOptionNode>(StringComparer.OrdinalIgnoreCase);
        MergeInto(members, value, layer, path);
        return new ProtocolOptionNode(key, value, layer, members, path);
    }

    private static void MergeInto(Dictionary<string, ProtocolOptionNode> members, JsonElement json, ProtocolOptionsLayer layer, string path)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in json.EnumerateObject())
        {
            var keyPath = path.Length == 0 ? entry.Name : $"{path}.{entry.Name}";
            if (!seen.Add(entry.Name))
            {
                throw new Sdk.ProtocolOptionsException(layer.Say(keyPath, "is given twice (keys differ only in case); each key may appear once"));
            }

            if (entry.Value.ValueKind == JsonValueKind.Object && members.TryGetValue(entry.Name, out var existing) && existing.Members is { } nested)
            {
                // Keep the earlier layer's spelling of the key as the node's key only for lookup; the later layer owns
                // the values it gives.
                MergeInto(nested, entry.Value, layer, keyPath);
                continue;
            }

            members.Remove(entry.Name);
            members[entry.Name] = FromElement(entry.Name, entry.Value, layer, keyPath);
        }
    }
}
