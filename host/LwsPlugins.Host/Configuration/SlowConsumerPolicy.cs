namespace LwsPlugins.Host.Configuration;

/// <summary>What a vhost does with a session whose send queue is full because its client does not read.</summary>
public enum SlowConsumerPolicy
{
    /// <summary>Close the session with 1008 (policy violation): nothing is silently lost.</summary>
    Close,

    /// <summary>Drop the oldest queued message to make room: the session lives on and loses messages.</summary>
    DropOldest,
}
