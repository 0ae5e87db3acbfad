namespace LwsPlugins.Sdk.Status;

/// <summary>One plugin and its generations.</summary>
public sealed class PluginStatus
{
    /// <summary>The plugin id.</summary>
    public required string Id { get; init; }

    /// <summary>The folder the plugin is loaded from.</summary>
    public required string Path { get; init; }

    /// <summary>Its generations, oldest first.</summary>
    public required IReadOnlyList<PluginGenerationStatus> Generations { get; init; }
}
