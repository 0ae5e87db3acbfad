using System.Text.Json.Serialization;
using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Host.Status;

/// <summary>Serialises the SDK's <see cref="ServerStatusDocument"/> for <c>GET /status</c>, as the server-status plugin does.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ServerStatusDocument))]
internal sealed partial class ServerStatusDocumentJsonContext : JsonSerializerContext;
