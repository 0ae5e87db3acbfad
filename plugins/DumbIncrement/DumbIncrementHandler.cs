using System.Globalization;
using System.Net.WebSockets;
using LwsPlugins.Sdk;
using Microsoft.Extensions.Options;

namespace LwsPlugins.Plugins.DumbIncrement;

/// <summary>
/// One vhost's instance: a single timer per vhost sends each session its own counter and increments it
/// (lws intends one 50 ms tick per vhost; its 4.1.6 rate growing with the number of clients is an artefact we do not copy).
/// On a hot reload or a change of the vhost's options its sessions move to the new instance with their counters, so a
/// client sees its count go on (at the new interval) instead of a reconnect.
/// </summary>
public sealed class DumbIncrementHandler : ProtocolHandler, IProtocolStateTransfer
{
    private static readonly byte[] s_reset = "reset\n"u8.ToArray();
    private static readonly byte[] s_closeMe = "closeme\n"u8.ToArray();

    private readonly SessionGroup _sessions = new();
    private readonly ITimer _timer;

    /// <summary>Creates the instance and starts its tick.</summary>
    /// <param name="options">The vhost's options.</param>
    /// <param name="timeProvider">The host's clock.</param>
    public DumbIncrementHandler(IOptions<DumbIncrementOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var interval = TimeSpan.FromMilliseconds(options.Value.IntervalMs);
        _timer = timeProvider.CreateTimer(static state => ((DumbIncrementHandler)state!).Tick(), this, interval, interval);
    }

    /// <inheritdoc />
    public override ValueTask OnSessionOpenedAsync(IWebSocketSession session, CancellationToken cancellationToken)
    {
        var counter = new Counter();
        session.State = counter;
        SendNext(session, counter);
        _sessions.Add(session);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask OnMessageAsync(IWebSocketSession session, WebSocketMessage message, CancellationToken cancellationToken)
    {
        var data = message.Data.Span;
        if (data.StartsWith(s_reset))
        {
            ((Counter)session.State!).Reset();
        }
        else if (data.StartsWith(s_closeMe))
        {
            session.Close(WebSocketCloseStatus.EndpointUnavailable, "seeya");
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override ValueTask OnSessionClosedAsync(IWebSocketSession session)
    {
        _sessions.Remove(session);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public object? ExportState()
    {
        // Each session's next number, keyed by the session: BCL and SDK types only, as the new code is another assembly.
        // The sessions leave this instance's tick now, so none gets a number twice while it moves.
        var counters = new Dictionary<IWebSocketSession, int>();
        foreach (var session in _sessions.GetMembers())
        {
            counters[session] = ((Counter)session.State!).Peek();
            _sessions.Remove(session);
        }

        return counters;
    }

    /// <inheritdoc />
    public void ImportState(object? state, IReadOnlyList<IWebSocketSession> sessions)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        var counters = state as IReadOnlyDictionary<IWebSocketSession, int>;
        foreach (var session in sessions)
        {
            session.State = new Counter(counters?.GetValueOrDefault(session) ?? 0);
            _sessions.Add(session);
        }
    }

    /// <inheritdoc />
    protected override async ValueTask DisposeAsyncCore()
    {
        await _timer.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    private void Tick()
    {
        foreach (var session in _sessions.GetMembers())
        {
            SendNext(session, (Counter)session.State!);
        }
    }

    private static void SendNext(IWebSocketSession session, Counter counter)
        => session.TrySendText(counter.Next().ToString(CultureInfo.InvariantCulture));

    private sealed class Counter(int next = 0)
    {
        private int _value = next;

        public int Peek() => Volatile.Read(ref _value);

        public int Next() => Interlocked.Increment(ref _value) - 1;

        public void Reset() => Interlocked.Exchange(ref _value, 0);
    }
}
