using System.Text.Json;

namespace LwsPlugins.Host.Configuration;

/// <summary>A protocol a vhost serves, with its per-vhost options (lws: <c>pvo</c>).</summary>
/// <param name="Name">The subprotocol name.</param>
/// <param name="Options">A JSON object overlaid on the manifest's default options, or <see langword="null"/>.</param>
public sealed record ProtocolSelection(string Name, JsonElement? Options = null);
