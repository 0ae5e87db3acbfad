using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Host.Status;

/// <summary>
/// Turns the process's memory and the vhosts' traffic totals into the status document's performance figures: memory per
/// session against the last reading taken with no session open, and message rates over windows of at least
/// <see cref="MinWindow"/> (readings closer together reuse the last window's rates, so many status clients asking at
/// once do not shrink the window to noise).
/// </summary>
internal sealed class PerformanceSampler(TimeProvider time)
{
    public static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private (long WorkingSet, long GcHeap)? _idleBaseline;
    private (long Timestamp, long MessagesIn, long MessagesOut, long BytesOut)? _windowStart;
    private (double In, double Out, double BytesOut, double Seconds) _rates;

    /// <summary>A sampler whose first memory baseline is the process now, with no session open (the context starting).</summary>
    public static PerformanceSampler StartingIdle(TimeProvider time)
    {
        var sampler = new PerformanceSampler(time);
        sampler._idleBaseline = (Environment.WorkingSet, GC.GetTotalMemory(forceFullCollection: false));
        return sampler;
    }

    public PerformanceStatus Sample(int sessions, long messagesIn, long messagesOut, long bytesOut, long workingSet, long gcHeap)
    {
        lock (_gate)
        {
            if (sessions == 0)
            {
                _idleBaseline = (workingSet, gcHeap);
            }

            var now = time.GetTimestamp();
            if (_windowStart is not { } start)
            {
                _windowStart = (now, messagesIn, messagesOut, bytesOut);
            }
            else if (time.GetElapsedTime(start.Timestamp, now) is var elapsed && elapsed >= MinWindow)
            {
                var seconds = elapsed.TotalSeconds;
                _rates = ((messagesIn - start.MessagesIn) / seconds, (messagesOut - start.MessagesOut) / seconds, (bytesOut - start.BytesOut) / seconds, seconds);
                _windowStart = (now, messagesIn, messagesOut, bytesOut);
            }

            return new PerformanceStatus
            {
                Sessions = sessions,
                MemoryPerSessionBytes = sessions > 0 && _idleBaseline is { } b ? Math.Max(0, workingSet - b.WorkingSet) / sessions : null,
                ManagedBytesPerSession = sessions > 0 && _idleBaseline is { } g ? Math.Max(0, gcHeap - g.GcHeap) / sessions : null,
                MessagesInPerSecond = _rates.In,
                MessagesOutPerSecond = _rates.Out,
                BytesOutPerSecond = _rates.BytesOut,
                RateWindowSeconds = _rates.Seconds,
            };
        }
    }
}
