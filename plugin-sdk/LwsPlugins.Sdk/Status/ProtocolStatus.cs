namespace LwsPlugins.Sdk.Status;

/// <summary>One protocol on one vhost.</summary>
public sealed class ProtocolStatus
{
    /// <summary>The subprotocol name.</summary>
    public required string Name { get; init; }

    /// <summary>The id of the plugin providing it.</summary>
    public required string PluginId { get; init; }

    /// <summary>The plugin generation serving new sessions, or 0 when the protocol is unavailable.</summary>
    public required int Generation { get; init; }

    /// <summary><c>available</c>, or <c>unavailable</c> when its plugin failed to load.</summary>
    public required string State { get; init; }

    /// <summary>Why the protocol is unavailable (its plugin failed to load, was removed, or none provides it); <see langword="null"/> while available.</summary>
    public string? UnavailableReason { get; init; }

    /// <summary>
    /// Why the vhost serves it: <c>list</c> when the vhost's <c>protocols</c> names it; <c>all-plugins</c> when the vhost
    /// serves every loaded plugin (it lists no protocols, or lists <c>"*"</c>), so the protocol comes and goes with its plugin.
    /// </summary>
    public string SelectedBy { get; init; } = "list";

    /// <summary>Open sessions of this protocol on the vhost.</summary>
    public required int Sessions { get; init; }

    /// <summary>
    /// Plugin callbacks of this protocol on the vhost (across its current and retiring instances) that ran past the
    /// vhost's callback timeout: each closed its session with 1011 (or answered its HTTP request with 504).
    /// </summary>
    public long CallbackTimeouts { get; init; }
}
