using System.Net.WebSockets;

namespace LwsPlugins.Sdk;

/// <summary>
/// A set of sessions that receive the same messages (fan-out), e.g. the members of one mirror instance.
/// Broadcasts are ordered: every member receives the group's messages in the same order. A broadcast never waits for a
/// member; each member's bounded send queue and the vhost's slow-consumer policy deal with a member that does not read.
/// </summary>
/// <remarks>Thread-safe. The payload of a broadcast is shared by every member's queue, not copied.</remarks>
public sealed class SessionGroup
{
    private readonly Lock _gate = new();
    private readonly List<IWebSocketSession> _members = [];

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
    /// <returns>How many members accepted the message.</returns>
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
        }

        return accepted;
    }
}
