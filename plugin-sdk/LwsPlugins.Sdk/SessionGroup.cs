using System.Net.WebSockets;

namespace LwsPlugins.Sdk;

/// <summary>
/// A set of sessions that receive the same messages (fan-out), e.g. the members of one mirror instance.
/// Broadcasts are ordered: every member receives the group's messages in the same order. A broadcast never waits for a
/// member; each member's send queue and the vhost's slow-consumer policy deal with a member that reads slowly.
/// </summary>
/// <remarks>
/// Under the default policy (<c>backpressure</c>, as lws) fan-out paces, never kicks: a broadcast made from a member's
/// message callback that takes any member's queue to the vhost's <c>sendQueueLimit</c> pauses reading from the sending
/// member until that queue has drained to half, so every member that keeps reading gets every message, in order, and
/// the senders go at the pace of the slowest reader; a member that reads nothing for <c>stallTimeoutMs</c> (3 s) is
/// closed with 1008 and the senders resume. The group tells the host nothing: the host knows which session's callback
/// made the broadcast. Broadcasts from elsewhere (a timer, the backplane) cannot be paused; a member they take to
/// twice the limit is closed with 1008, a stalled one by the same stall rule. Thread-safe. The payload of a broadcast is shared by every member's queue, not copied. A group created with an
/// <see cref="IFanOutBackplane"/> also spans the other servers sharing it: a broadcast reaches this server's members at
/// once and is published for the others; their broadcasts reach this server's members. Dispose such a group when it goes
/// away.
/// </remarks>
public sealed class SessionGroup : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<IWebSocketSession> _members = [];
    private readonly IFanOutLink? _link;

    /// <summary>
    /// The close code a group spanning servers closes its local members with when the backplane lost messages to it
    /// that cannot be recovered (1012, "service restart": the client should reconnect). The reason is <see cref="BackplaneGapReason"/>.
    /// </summary>
    public const WebSocketCloseStatus BackplaneGapStatus = (WebSocketCloseStatus)1012;

    /// <summary>The close reason sent with <see cref="BackplaneGapStatus"/>.</summary>
    public const string BackplaneGapReason = "backplane gap, reconnect";

    /// <summary>Creates a group of this server's sessions only.</summary>
    public SessionGroup()
    {
    }

    /// <summary>Creates a group that spans every server sharing <paramref name="backplane"/>.</summary>
    /// <param name="backplane">The backplane the host offers (see <see cref="IProtocolContext.Services"/>).</param>
    /// <param name="name">The group's name, unique within the protocol on the vhost; groups of the same name on other servers are joined.</param>
    public SessionGroup(IFanOutBackplane backplane, string name)
    {
        ArgumentNullException.ThrowIfNull(backplane);
        ArgumentNullException.ThrowIfNull(name);
        _link = backplane.Join(name, DeliverFromBackplane, CloseMembersOnLoss);
    }

    /// <summary>The number of members.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _members.Count;
            }
        }
    }

    /// <summary>A snapshot of the members, in joining order.</summary>
    /// <returns>The members at the time of the call.</returns>
    public IReadOnlyList<IWebSocketSession> GetMembers()
    {
        lock (_gate)
        {
            return [.. _members];
        }
    }

    /// <summary>Adds a session; adding a member twice has no effect.</summary>
    /// <param name="session">The session.</param>
    /// <returns>The number of members afterwards.</returns>
    public int Add(IWebSocketSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (_gate)
        {
            if (!_members.Contains(session))
            {
                _members.Add(session);
            }

            return _members.Count;
        }
    }

    /// <summary>Removes a session.</summary>
    /// <param name="session">The session.</param>
    /// <returns>The number of members afterwards.</returns>
    public int Remove(IWebSocketSession session)
    {
        lock (_gate)
        {
            _members.Remove(session);
            return _members.Count;
        }
    }

    /// <summary>Queues one message for every member.</summary>
    /// <param name="type">Text or binary.</param>
    /// <param name="payload">The bytes, shared by all members; must not change afterwards.</param>
    /// <returns>How many members accepted the message (see <see cref="IWebSocketSession.TrySend"/>: a member paced by
    /// backpressure accepts it).</returns>
    public int Broadcast(WebSocketMessageType type, ReadOnlyMemory<byte> payload)
    {
        var accepted = 0;
        lock (_gate)
        {
            foreach (var member in _members)
            {
                if (member.TrySend(type, payload))
                {
                    accepted++;
                }
            }

            // Under the lock, so other servers get the group's broadcasts in the order its members here do.
            _link?.TryPublish(null, type, payload);
        }

        return accepted;
    }

    /// <summary>Leaves the backplane (a group of this server only has nothing to release). Members are not closed.</summary>
    public void Dispose() => _link?.Dispose();

    private void DeliverFromBackplane(WebSocketMessageType type, ReadOnlyMemory<byte> payload)
    {
        lock (_gate)
        {
            foreach (var member in _members)
            {
                member.TrySend(type, payload);
            }
        }
    }

    /// <summary>Every member missed messages of another server: closing them is the only honest answer (never a silent gap).</summary>
    private void CloseMembersOnLoss(string reason)
    {
        IWebSocketSession[] members;
        lock (_gate)
        {
            members = [.. _members];
        }

        foreach (var member in members)
        {
            member.Close(BackplaneGapStatus, BackplaneGapReason);
        }
    }
}
