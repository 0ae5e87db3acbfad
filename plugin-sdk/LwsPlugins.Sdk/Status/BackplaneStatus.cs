namespace LwsPlugins.Sdk.Status;

/// <summary>The fan-out backplane that carries groups between servers, and its health.</summary>
public sealed class BackplaneStatus
{
    /// <summary><c>in-process</c> (the default: nothing leaves the process) or <c>redis</c>.</summary>
    public required string Kind { get; init; }

    /// <summary><c>connected</c>, or <c>down</c> while the backplane is unreachable (local fan-out goes on; it reconnects by itself).</summary>
    public required string State { get; init; }

    /// <summary>Since when the backplane is in <see cref="State"/>.</summary>
    public required DateTimeOffset Since { get; init; }

    /// <summary>Where the backplane is (Redis endpoints, never a password), or empty for the in-process one.</summary>
    public required string Endpoint { get; init; }

    /// <summary>Times the connection came back after being lost.</summary>
    public required long Reconnects { get; init; }

    /// <summary>Group channels this server is subscribed to.</summary>
    public required int Channels { get; init; }

    /// <summary>Messages published for the other servers.</summary>
    public required long Published { get; init; }

    /// <summary>Messages received from the other servers and handed to local groups.</summary>
    public required long Received { get; init; }

    /// <summary>Messages not published: the backplane was down past its outbox's bounds (Redis), or the in-process one's inbox was full.</summary>
    public required long Dropped { get; init; }

    /// <summary>Messages of another server that never arrived, seen as gaps in its per-group sequence numbers.</summary>
    public required long Gaps { get; init; }

    /// <summary>Messages held in the outbox: waiting for Redis, or kept to be sent again should Redis restart without its data.</summary>
    public long Outbox { get; init; }

    /// <summary>Times a channel's local groups were told messages to them were lost beyond recovery (their members were closed with 1012).</summary>
    public long LostReports { get; init; }

    /// <summary>Why the backplane went down last, or <see langword="null"/>.</summary>
    public string? LastError { get; init; }
}
