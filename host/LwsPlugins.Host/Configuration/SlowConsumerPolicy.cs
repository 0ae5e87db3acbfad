namespace LwsPlugins.Host.Configuration;

/// <summary>What a vhost does with a session whose send queue is full because its client does not read.</summary>
public enum SlowConsumerPolicy
{
    /// <summary>Close the session with 1008 (policy violation): nothing is silently lost.</summary>
    Close,

    /// <summary>Drop the oldest queued message to make room: the session lives on and loses messages.</summary>
    DropOldest,

    /// <summary>
    /// The default, as lws: nothing is dropped. A queue at <c>sendQueueLimit</c> stops the host reading from the
    /// sessions that feed it (TCP backpressure on the senders) until it drains to half; a member whose writer makes no
    /// progress for <c>stallTimeoutMs</c> is closed with 1008, and the senders it held resume.
    /// </summary>
    Backpressure,
}
