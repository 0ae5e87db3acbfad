using System.Text.Json;
using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Plugins;

/// <summary>One protocol exported by one plugin generation, with the manifest's default options.</summary>
internal sealed record ProtocolExport(
    string Name,
    bool PerMessageDeflate,
    IProtocolPlugin Plugin,
    PluginGeneration Generation,
    JsonElement? DefaultOptions);
