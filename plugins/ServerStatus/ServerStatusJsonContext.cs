using System.Text.Json.Serialization;
using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Plugins.ServerStatus;

/// <summary>Source-generated serialisation, so no reflection cache of the host's process holds this plugin's types.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ServerStatusDocument))]
internal sealed partial class ServerStatusJsonContext : JsonSerializerContext;
