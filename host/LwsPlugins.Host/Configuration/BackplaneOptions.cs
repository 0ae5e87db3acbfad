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

    /// <summary>What to do when Redis cannot be reached at start: <c>fail</c> (the default: the server does not start) or <c>localOnly</c>.</summary>
    public BackplaneStartFailure OnStartFailure { get; set; } = BackplaneStartFailure.Fail;

    /// <summary>How long connecting to Redis may take, in milliseconds.</summary>
    public int ConnectTimeoutMs { get; set; } = 5000;

    /// <summary>Messages waiting to be published at most; beyond it (Redis slower than the senders) messages are dropped and counted.</summary>
    public int PublishQueueLimit { get; set; } = 10_000;
}
