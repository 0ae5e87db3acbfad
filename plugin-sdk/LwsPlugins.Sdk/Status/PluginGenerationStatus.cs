namespace LwsPlugins.Sdk.Status;

/// <summary>One loaded (or failed) version of a plugin.</summary>
public sealed class PluginGenerationStatus
{
    /// <summary>The generation number, counting from 1 per plugin.</summary>
    public required int Number { get; init; }

    /// <summary>The version from the manifest, when it could be read.</summary>
    public required string? Version { get; init; }

    /// <summary><c>active</c>, <c>draining</c>, <c>unloading</c> or <c>failed</c>.</summary>
    public required string State { get; init; }

    /// <summary>Why the generation failed, when it did.</summary>
    public required string? Error { get; init; }

    /// <summary>When it was loaded.</summary>
    public required DateTimeOffset LoadedAt { get; init; }

    /// <summary>The protocols it exports.</summary>
    public required IReadOnlyList<string> Protocols { get; init; }
}
