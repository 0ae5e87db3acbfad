using System.Collections.Concurrent;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Sessions;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// The timers of one definition of a vhost: the plugin-callback watchdog and the stall sweep, one timer each per vhost
/// (not per session), each only when the definition asks for it. A changed definition starts new ones and disposes these.
/// </summary>
internal sealed class VhostWatchdogs : IAsyncDisposable
{
    private readonly ConcurrentDictionary<WebSocketSession, byte> _sessions;
    private readonly TimeProvider _time;
    private readonly TimeSpan _callbackTimeout;
    private readonly int _stallTimeoutMs;
    private readonly ITimer? _callbacks;
    private readonly ITimer? _stalls;

    public VhostWatchdogs(VhostOptions options, TimeProvider time, ConcurrentDictionary<WebSocketSession, byte> sessions)
    {
        _sessions = sessions;
        _time = time;
        _callbackTimeout = TimeSpan.FromMilliseconds(options.CallbackTimeoutMs);
        _stallTimeoutMs = options.StallTimeoutMs;
        if (options.CallbackTimeoutMs > 0)
        {
            // A quarter of the timeout between sweeps: a stuck callback is caught between 1 and 1.25 timeouts after it began.
            var sweep = TimeSpan.FromMilliseconds(Math.Max(1, options.CallbackTimeoutMs / 4));
            _callbacks = time.CreateTimer(static state => ((VhostWatchdogs)state!).SweepCallbacks(), this, sweep, sweep);
        }

        if (options.SlowConsumerPolicy == SlowConsumerPolicy.Backpressure && options.StallTimeoutMs > 0)
        {
            // A quarter of the timeout between sweeps, so a stalled member is cut between 1 and 1.25 timeouts after its
            // writer last made progress.
            var sweep = TimeSpan.FromMilliseconds(Math.Max(1, options.StallTimeoutMs / 4));
            _stalls = time.CreateTimer(static state => ((VhostWatchdogs)state!).SweepStalls(), this, sweep, sweep);
        }
    }

    private void SweepCallbacks()
    {
        foreach (var session in _sessions.Keys)
        {
            session.CheckCallbackDeadline(_callbackTimeout);
        }
    }

    private void SweepStalls()
    {
        var now = _time.GetTimestamp();
        var timeout = (long)(_stallTimeoutMs * (_time.TimestampFrequency / 1000.0));
        foreach (var session in _sessions.Keys)
        {
            session.CheckStall(now, timeout, _stallTimeoutMs);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_callbacks is not null)
        {
            await _callbacks.DisposeAsync().ConfigureAwait(false);
        }

        if (_stalls is not null)
        {
            await _stalls.DisposeAsync().ConfigureAwait(false);
        }
    }
}
