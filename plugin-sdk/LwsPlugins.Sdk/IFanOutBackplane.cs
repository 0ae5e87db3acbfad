using System.Net.WebSockets;

namespace LwsPlugins.Sdk;

/// <summary>
/// Carries fan-out groups beyond this server: every server that shares the backplane and has a group of the same name
/// (on a vhost of the same name, for the same protocol) receives what the others publish to it. The host offers one to
/// every protocol instance through <see cref="IProtocolContext.Services"/>: an in-process one by default (nothing leaves
/// the process), Redis pub/sub when the server is configured with a Redis connection string.
/// </summary>
/// <remarks>
/// A server never receives its own publications back: local members are reached by the group directly. Across servers
/// each publishing server's messages reach the group once each and in its order. With Redis they survive an outage
/// inside the backplane's bounds (an outbox while Redis is away, streams read on from the last delivered entry); what
/// cannot be recovered (an outage past the outbox's bounds, a Redis restarted without its data and past the outbox,
/// a reader past the stream's retention) is reported to the group through the <c>lost</c> callback, never dropped
/// silently. <see cref="SessionGroup"/> uses it when created with <see cref="SessionGroup(IFanOutBackplane, string)"/>
/// and closes its local members with <see cref="SessionGroup.BackplaneGapStatus"/>.
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

    /// <summary>Joins a group as <see cref="Join(string, Action{WebSocketMessageType, ReadOnlyMemory{byte}})"/> does, and learns of messages lost beyond recovery.</summary>
    /// <param name="group">The group's name, unique within the protocol on the vhost.</param>
    /// <param name="deliver">As for the other overload.</param>
    /// <param name="lost">
    /// Called (on the backplane's thread, quick, must not throw) when messages of another server to the group were lost
    /// and cannot be recovered; the argument says why. The group's local members have missed them: close them so their
    /// clients reconnect (as <see cref="SessionGroup"/> does). A backplane that cannot lose messages never calls it.
    /// </param>
    /// <returns>The link.</returns>
    IFanOutLink Join(string group, Action<WebSocketMessageType, ReadOnlyMemory<byte>> deliver, Action<string> lost) => Join(group, deliver);
}
