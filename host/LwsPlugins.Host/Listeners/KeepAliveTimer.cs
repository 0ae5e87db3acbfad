using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace LwsPlugins.Host.Listeners;

/// <summary>
/// A vhost's own bound on an idle HTTP/1.x keep-alive connection (lws: <c>keepalive-timeout</c>;
/// <see cref="Configuration.VhostOptions.KeepAliveTimeoutMs"/>), inside Kestrel's server-wide one. One per connection,
/// made by the first response of a vhost that sets it and kept in the connection's items; every such response arms it,
/// the connection's next request (to whichever vhost) disarms it, and on expiry it asks the connection to close
/// gracefully (<see cref="IConnectionLifetimeNotificationFeature.RequestClose"/>), as Kestrel's own keep-alive expiry
/// does: a request racing the expiry still gets its response, with <c>Connection: close</c>. Freed with the connection.
/// </summary>
internal sealed class KeepAliveTimer : IAsyncDisposable
{
    private static readonly object s_key = new();

    // Connections that hold one. While there are none, a request pays this one read and nothing else: no feature
    // lookup and no allocation on a server where no vhost sets the option (the static file path stays as it was).
    private static int s_live;

    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly IConnectionLifetimeNotificationFeature _lifetime;
    private readonly ITimer _timer;
    private TimeSpan _due = Timeout.InfiniteTimeSpan;
    private long _armedAt;
    private bool _disposed;

    private KeepAliveTimer(TimeProvider time, IConnectionLifetimeNotificationFeature lifetime)
    {
        _time = time;
        _lifetime = lifetime;
        // The timer lives as long as the connection: it must not hold the first request's execution context (its
        // activity, its async locals) that long.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = time.CreateTimer(static state => ((KeepAliveTimer)state!).Expired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// A response of a vhost with <paramref name="timeout"/> is done on this HTTP/1.x connection: it may now stay idle
    /// that long. Creates the connection's timer the first time; does nothing where Kestrel's connection features are missing.
    /// </summary>
    public static void Arm(HttpContext context, TimeSpan timeout, TimeProvider time)
    {
        if (context.Features.Get<IConnectionItemsFeature>()?.Items is not { } items)
        {
            return;
        }

        if (!items.TryGetValue(s_key, out var existing) || existing is not KeepAliveTimer timer)
        {
            if (context.Features.Get<IConnectionLifetimeNotificationFeature>() is not { } lifetime
                || context.Features.Get<IConnectionCompleteFeature>() is not { } complete)
            {
                return;
            }

            timer = new KeepAliveTimer(time, lifetime);
            items[s_key] = timer;
            Interlocked.Increment(ref s_live);
            complete.OnCompleted(static state => ((KeepAliveTimer)state).DisposeAsync().AsTask(), timer);
        }

        timer.Arm(timeout);
    }

    /// <summary>A request arrived on the connection: whatever vhost it is for, the connection is no longer idle.</summary>
    public static void Disarm(HttpContext context)
    {
        if (Volatile.Read(ref s_live) == 0)
        {
            return;
        }

        if (context.Features.Get<IConnectionItemsFeature>()?.Items is { } items && items.TryGetValue(s_key, out var existing) && existing is KeepAliveTimer timer)
        {
            timer.Disarm();
        }
    }

    private void Arm(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _due = timeout;
            _armedAt = _time.GetTimestamp();
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void Disarm()
    {
        lock (_gate)
        {
            if (_disposed || _due == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            _due = Timeout.InfiniteTimeSpan;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    private void Expired()
    {
        lock (_gate)
        {
            if (_disposed || _due == Timeout.InfiniteTimeSpan)
            {
                // Disarmed by a request after the timer had already been dispatched.
                return;
            }

            var left = _due - _time.GetElapsedTime(_armedAt);
            if (left > TimeSpan.Zero)
            {
                // Re-armed by a later response after this firing was dispatched, or the timer ran a little early for the clock.
                _timer.Change(left, Timeout.InfiniteTimeSpan);
                return;
            }

            _due = Timeout.InfiniteTimeSpan;
        }

        _lifetime.RequestClose();
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        Interlocked.Decrement(ref s_live);
        await _timer.DisposeAsync().ConfigureAwait(false);
    }
}
