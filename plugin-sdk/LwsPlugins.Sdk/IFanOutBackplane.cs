using System.Net.WebSockets;

namespace LwsPlugins.Sdk;

/// <summary>
/// Carries fan-out groups beyond this server: every server that shares the backplane and has a group of the same name
/// (on a vhost of the same name, for the same protocol) receives what the others publish to it. The host offers one to
/// every protocol instance through <see cref="IProtocolContext.Services"/>: an in-process one by default (nothing leaves
/// the process), Redis pub/sub when the server is configured with a Redis connection string.
/// </summary>
/// <remarks>
/// A server never receives its own publications back: local members are reached by the group directly. Delivery across
/// servers is at most once (a message published while the backplane is down is dropped and counted) and in order per
/// publishing server. <see cref="SessionGroup"/> uses it when created with <see cref="SessionGroup(IFanOutBackplane, string)"/>.
/// </remarks>
public interface IFanOutBackplane
{
    /// <summary>Joins a group: publications of other servers to it go to <paramref name="deliver"/> until the link is disposed.</summary>
    /// <param name="group">The group's name, unique within the protocol on the vhost (e.g. a mirror instance's name).</param>
    /// <param name="deliver">
    /// Called with each message another server published to the group, one call at a time, in that server's order. It runs
    /// on the backplane's thread: it must be quick, must not block and must not throw (queue the message, as
    /// <see cref="IWebSocketSession.TrySend"/> does). The payload stays valid and unchanged after the call.
    /// </param>
    /// <returns>The link; dispose it when the group goes away (the host disposes what is left with the protocol instance).</returns>
    IFanOutLink Join(string group, Action<WebSocketMessageType, ReadOnlyMemory<byte>> deliver);
}
