using System.Net.WebSockets;

namespace LwsPlugins.Sdk;

/// <summary>One group's connection to an <see cref="IFanOutBackplane"/>. Disposing it leaves the group.</summary>
public interface IFanOutLink : IDisposable
{
    /// <summary>
    /// Hands a message to the backplane for the other servers' members of the group. Returns at once, never waiting for
    /// the backplane; messages are sent in the order of these calls.
    /// </summary>
    /// <param name="senderId">The sending session's id, carried for diagnostics, or <see langword="null"/>.</param>
    /// <param name="type">Text or binary.</param>
    /// <param name="payload">The bytes; copied, so the caller may reuse them.</param>
    /// <returns><see langword="false"/> when the message was dropped: the backplane is down, its send buffer is full, or the link is disposed.</returns>
    bool TryPublish(string? senderId, WebSocketMessageType type, ReadOnlyMemory<byte> payload);
}
