using System.Text.Json;

namespace LwsPlugins.Host.Vhosts;

/// <summary>One source of protocol options: its JSON object and how a message names where it is written.</summary>
/// <param name="Json">The layer's object, or <see langword="null"/> when the layer gives nothing.</param>
/// <param name="Source">The place as a prefix of a key: <c>vhost 'v1': protocols.tick</c>.</param>
/// <param name="Lines">The line of each key (dotted path from the layer's object) and the file, where known.</param>
internal sealed record ProtocolOptionsLayer(JsonElement? Json, string Source, ProtocolOptionLines? Lines)
{
    /// <summary><c>Source.key: what</c>, with the file and line where known.</summary>
    public string Say(string keyPath, string what)
    {
        var where = keyPath.Length == 0 ? Source : $"{Source}.{keyPath}";
        return Lines is { } lines && lines.LineOf(keyPath) is { } line
            ? $"{where}: {what} ({lines.File}, line {line})"
            : $"{where}: {what}.";
    }
}
