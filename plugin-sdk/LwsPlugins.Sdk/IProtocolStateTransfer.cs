namespace LwsPlugins.Sdk;

/// <summary>
/// Opt-in hot-reload state hand-over for a protocol handler. When a plugin is reloaded and both the old and the new
/// handler of a vhost implement this interface, the host pauses the old handler's sessions, calls
/// <see cref="ExportState"/> on the old handler and <see cref="ImportState"/> on the new one, and moves every session
/// to the new handler: clients stay connected and the new code serves them. Without it, old sessions stay on the old
/// code until they close (drain) or are closed with 1012 (restart).
/// </summary>
/// <remarks>
/// The old and the new handler live in different load contexts, so the state must be made only of types both can see:
/// BCL types, SDK types such as <see cref="IWebSocketSession"/>, and collections of them, never a type of the plugin's
/// own assembly. Each moved session's <see cref="IWebSocketSession.State"/> was created by the old code: the new handler
/// must replace it in <see cref="ImportState"/>.
/// </remarks>
public interface IProtocolStateTransfer
{
    /// <summary>Called on the old handler, with its sessions paused: returns what the new handler needs.</summary>
    /// <returns>State made only of BCL and SDK types; <see langword="null"/> declines the hand-over (the sessions then drain or restart per policy).</returns>
    object? ExportState();

    /// <summary>Called on the new handler before any of the moved sessions is dispatched to it.</summary>
    /// <param name="state">What the old handler exported.</param>
    /// <param name="sessions">Every session being moved from the old handler to this one.</param>
    void ImportState(object? state, IReadOnlyList<IWebSocketSession> sessions);
}
