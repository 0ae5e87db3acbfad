namespace LwsPlugins.Sdk.Status;

/// <summary>
/// Figures that make a performance regression visible in production: memory per open session and message rates
/// (the fan-out throughput), over all vhosts.
/// </summary>
public sealed class PerformanceStatus
{
    /// <summary>Open WebSocket sessions, all vhosts.</summary>
    public required int Sessions { get; init; }

    /// <summary>
    /// Resident memory per open session, in bytes: the working set above the last one seen with no session open, divided
    /// by the sessions. An estimate that is meaningful with many sessions; <see langword="null"/> with none.
    /// </summary>
    public long? MemoryPerSessionBytes { get; init; }

    /// <summary>Managed heap per open session, in bytes, measured the same way; <see langword="null"/> with no session.</summary>
    public long? ManagedBytesPerSession { get; init; }

    /// <summary>Messages received per second, all vhosts, over <see cref="RateWindowSeconds"/>.</summary>
    public required double MessagesInPerSecond { get; init; }

    /// <summary>Messages written per second (every fan-out delivery counts), all vhosts, over <see cref="RateWindowSeconds"/>.</summary>
    public required double MessagesOutPerSecond { get; init; }

    /// <summary>Payload bytes written per second, all vhosts, over <see cref="RateWindowSeconds"/>.</summary>
    public required double BytesOutPerSecond { get; init; }

    /// <summary>The window the rates are measured over (at least one second; 0 before the first window ends).</summary>
    public required double RateWindowSeconds { get; init; }
}
