namespace LwsPlugins.Host.Configuration;

/// <summary>
/// The fan-out backplane that carries groups (mirror instances) between servers. In-process (nothing leaves the process)
/// unless <see cref="Redis"/> is set.
/// </summary>
public sealed class BackplaneOptions
{
    /// <summary>A StackExchange.Redis connection string, e.g. <c>127.0.0.1:6379</c> or <c>redis.example:6380,password=…,ssl=true</c>; none by default.</summary>
    public string? Redis { get; set; }

    /// <summary>Put before every channel name (then the vhost, the protocol and the group), so several deployments can share one Redis.</summary>
    public string ChannelPrefix { get; set; } = "lws/";

    /// <summary>
    /// What to do when Redis cannot be reached at start: <c>localOnly</c> (the default: serve local members, show the
    /// backplane down, connect as soon as Redis is up) or <c>fail</c> (the server does not start).
    /// </summary>
    public BackplaneStartFailure OnStartFailure { get; set; } = BackplaneStartFailure.LocalOnly;

    /// <summary>How long connecting to Redis may take, in milliseconds.</summary>
    public int ConnectTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// Messages waiting to be sent to a connected Redis before senders are paced: at half of it the session whose message
    /// it is stops being read until a quarter is left. Bounds pacing only; what may be held is bounded by the outbox limits.
    /// </summary>
    public int PublishQueueLimit { get; set; } = 10_000;

    /// <summary>
    /// Messages the outbox holds at most: waiting while Redis is away, and kept after they were sent so they can be sent
    /// again to a Redis that restarted without its data. The oldest go first; one that was never sent is then lost, and
    /// the other servers close the group's members (1012) rather than leave them a gap. 60,000 covers a 30 s outage at
    /// 1,000 messages/s twice over.
    /// </summary>
    public int OutboxMaxMessages { get; set; } = 60_000;

    /// <summary>Bytes (frames) the outbox holds at most; 64 MiB by default.</summary>
    public long OutboxMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long the outbox holds a message at most, in milliseconds (60 s by default): older ones are not sent any more.</summary>
    public int OutboxMaxAgeMs { get; set; } = 60_000;

    /// <summary>
    /// Entries each group's Redis stream keeps, approximately (<c>XADD MAXLEN ~</c>): how far a server whose connection
    /// dropped can read on from where it stopped. A reader further behind closes the group's members there (1012).
    /// </summary>
    public int StreamMaxLength { get; set; } = 10_000;
}
