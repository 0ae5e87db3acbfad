namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// The clock a protocol instance gets: the host's <see cref="TimeProvider"/>, except that every timer it creates is
/// remembered and disposed with the instance. A timer a plugin forgets to dispose would otherwise keep running its
/// callback, and with it the plugin's load context, after a reload.
/// </summary>
internal sealed class InstanceTimeProvider(TimeProvider inner) : TimeProvider, IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<ITimer> _timers = [];
    private bool _disposed;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = inner.CreateTimer(callback, state, dueTime, period);
        lock (_gate)
        {
            if (!_disposed)
            {
                _timers.Add(timer);
                return timer;
            }
        }

        timer.Dispose();
        throw new ObjectDisposedException(nameof(InstanceTimeProvider), "the protocol instance has been disposed");
    }

    public async ValueTask DisposeAsync()
    {
        ITimer[] timers;
        lock (_gate)
        {
            _disposed = true;
            timers = [.. _timers];
            _timers.Clear();
        }

        foreach (var timer in timers)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
    }
}
