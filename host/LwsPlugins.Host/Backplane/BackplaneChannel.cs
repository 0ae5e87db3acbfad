using System.Collections.Immutable;

namespace LwsPlugins.Host.Backplane;

/// <summary>One channel this server has joined: its local links, its publishing sequence and what it saw of other servers.</summary>
internal sealed class BackplaneChannel(string name, long incarnation)
{
    /// <summary>Held while a publication gets its sequence number and is queued, so numbers go out in order.</summary>
    public Lock PublishGate { get; } = new();

    /// <summary>Held while a received message is checked against its origin's sequence and delivered.</summary>
    public Lock ReceiveGate { get; } = new();

    public string Name { get; } = name;

    public ImmutableArray<BackplaneLink> Links { get; set; } = [];

    /// <summary>Which of this server's channel objects of this name it is (increasing): a channel joined again starts its sequence at 1.</summary>
    public long Incarnation { get; } = incarnation;

    /// <summary>The last sequence number this server published on the channel.</summary>
    public long Sequence { get; set; }

    /// <summary>Set once the last link has left; a later join makes a new channel object.</summary>
    public bool Closed { get; set; }

    /// <summary>The incarnation and last sequence number seen from each other server.</summary>
    public Dictionary<Guid, (long Incarnation, long Sequence)> LastSeen { get; } = [];

    /// <summary>The transport's state for the channel (the Redis subscription).</summary>
    public object? Transport { get; set; }

    public bool Subscribing { get; set; }
}
