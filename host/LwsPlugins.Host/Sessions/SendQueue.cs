namespace LwsPlugins.Host.Sessions;

/// <summary>
/// A session's bounded send queue (lws: the ring drained on <c>LWS_CALLBACK_SERVER_WRITEABLE</c>). It also decides when
/// the session's writer runs: the enqueue that finds no writer active returns <see cref="EnqueueResult.StartWriter"/>,
/// and the writer stops when it finds the queue empty. So an idle session has no writer waiting and the queue holds no
/// array; the ring grows on demand up to the limit and shrinks again once drained. It locks itself (a thin lock, no
/// object of its own per session): it is internal to its session and never handed out.
/// <para>
/// Under backpressure (<c>slowConsumerPolicy: backpressure</c>) nothing is dropped: the limit is a high-water mark.
/// An enqueue that finds the queue at or over it holds the <see cref="ReadGate"/> of the session that fed it (its
/// receive loop stops reading), and the queue may grow past the limit by at most another limit's worth (what senders
/// already dispatching, or senders the host cannot pause, add meanwhile); at that hard bound it reports
/// <see cref="EnqueueResult.Full"/>. The writer releases every held gate once the queue is down to the low-water mark
/// (half the limit), and wakes <see cref="WaitForRoom"/> callers once it is under the limit again. Held gates are
/// decided and released under the queue's lock, so a release can never miss a hold made just before it.
/// </para>
/// </summary>
internal sealed class SendQueue(int limit, bool dropOldest, bool backpressure = false)
{
    private const int MinCapacity = 4;

    private readonly int _capacity = !backpressure ? limit : limit > int.MaxValue / 2 ? int.MaxValue : limit * 2;
    private readonly int _lowWater = limit / 2;
    private PausedFeeders? _feeders;
    private TaskCompletionSource? _room;
    private long _progressAt;

    /// <summary>A drained ring up to this size is kept for the next burst (no allocation per burst); a bigger one is released.</summary>
    private const int RetainedCapacity = 16;
    private OutboundMessage[] _items = [];
    private int _head;
    private int _count;
    private bool _writerActive;
    private bool _completed;

    public int Limit => limit;

    /// <summary>The most messages the queue holds: the limit, or twice it under backpressure (the overshoot bound).</summary>
    public int Capacity => _capacity;

    /// <summary>How many sessions this queue holds paused (tests and status).</summary>
    public int HeldFeeders
    {
        get
        {
            lock (this)
            {
                return _feeders?.Count ?? 0;
            }
        }
    }

    /// <summary>Messages waiting.</summary>
    public int Count
    {
        get
        {
            lock (this)
            {
                return _count;
            }
        }
    }

    /// <summary>Queues a message; <paramref name="dropped"/> tells whether the oldest was dropped to make room.</summary>
    public EnqueueResult TryEnqueue(in OutboundMessage message, out bool dropped) => TryEnqueue(message, null, out dropped, out _);

    /// <summary>
    /// Queues a message fed by the session whose gate is <paramref name="feeder"/> (<see langword="null"/>: no session
    /// to pause, e.g. a timer or the backplane). Under backpressure, when the queue is at or over its limit the feeder's
    /// gate is held until the queue drains to the low-water mark; <paramref name="paused"/> tells whether that hold
    /// closed the feeder's gate (a pause began).
    /// </summary>
    public EnqueueResult TryEnqueue(in OutboundMessage message, ReadGate? feeder, out bool dropped, out bool paused)
    {
        dropped = false;
        paused = false;
        lock (this)
        {
            if (_completed)
            {
                return EnqueueResult.Closed;
            }

            if (backpressure)
            {
                if (_count == _capacity)
                {
                    return EnqueueResult.Full;
                }
            }
            else if (_count == limit)
            {
                if (!dropOldest)
                {
                    return EnqueueResult.Full;
                }

                _items[_head] = default;
                _head = (_head + 1) % _items.Length;
                _count--;
                dropped = true;
            }

            if (_count == _items.Length)
            {
                Grow();
            }

            _items[(_head + _count) % _items.Length] = message;
            _count++;
            if (backpressure && _count >= limit && feeder is not null)
            {
                paused = (_feeders ??= new()).Pause(feeder);
            }

            if (!_writerActive)
            {
                // The writer starts now: a stall is measured from here, not from the last burst.
                _progressAt = message.QueuedAt;
            }

            return StartWriterIfIdle();
        }
    }

    /// <summary>
    /// <see langword="null"/> when the queue is under its limit (or no longer accepts messages); otherwise a task that
    /// completes once it is under the limit again, or completed.
    /// </summary>
    public Task? WaitForRoom()
    {
        lock (this)
        {
            if (_completed || _count < limit)
            {
                return null;
            }

            return (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    /// <summary>
    /// Whether the writer has been active (a message in flight or waiting) without taking a message for at least
    /// <paramref name="timeout"/> timestamp ticks: the client reads nothing. A completed (closing) queue never stalls;
    /// its close timeout bounds it.
    /// </summary>
    public bool IsStalled(long now, long timeout)
    {
        lock (this)
        {
            return _writerActive && !_completed && now - _progressAt >= timeout;
        }
    }

    /// <summary>
    /// The writer takes the oldest message. When the queue is empty it returns <see cref="DequeueResult.Idle"/> and the
    /// writer is no longer active (the next enqueue starts it again), or <see cref="DequeueResult.CloseDue"/> once the
    /// queue is completed (the writer stays active and sends the close frame).
    /// </summary>
    public DequeueResult TryDequeue(out OutboundMessage message) => TryDequeue(out message, null);

    /// <summary>As <see cref="TryDequeue(out OutboundMessage)"/>, recording at <paramref name="now"/> that the writer made progress.</summary>
    public DequeueResult TryDequeue(out OutboundMessage message, long? now)
    {
        lock (this)
        {
            if (now is { } progress)
            {
                _progressAt = progress;
            }

            if (_count == 0)
            {
                message = default;
                if (_items.Length > RetainedCapacity)
                {
                    // Drained after a burst: give the grown ring back, so an idle session holds no large array.
                    _items = [];
                    _head = 0;
                }

                if (_completed)
                {
                    return DequeueResult.CloseDue;
                }

                _writerActive = false;
                return DequeueResult.Idle;
            }

            message = _items[_head];
            _items[_head] = default;
            _head = (_head + 1) % _items.Length;
            _count--;
            if (_feeders is { Count: > 0 } && _count <= _lowWater)
            {
                ReleaseFeeders();
            }

            if (_room is not null && _count < limit)
            {
                _room.TrySetResult();
                _room = null;
            }

            return DequeueResult.Message;
        }
    }

    /// <summary>Drops every waiting message (a client cut off for not reading gets only the close frame).</summary>
    public void Clear()
    {
        lock (this)
        {
            Array.Clear(_items);
            _head = 0;
            _count = 0;
            ReleaseFeeders();
        }
    }

    /// <summary>No more messages are accepted; returns <see cref="EnqueueResult.StartWriter"/> when the writer must run to send the close frame.</summary>
    public EnqueueResult Complete()
    {
        lock (this)
        {
            if (_completed)
            {
                return EnqueueResult.Closed;
            }

            _completed = true;

            // Nothing more is queued here, so nobody stays paused for this session (a stalled member cut off frees its senders).
            ReleaseFeeders();
            _room?.TrySetResult();
            _room = null;
            return StartWriterIfIdle();
        }
    }

    public bool IsCompleted
    {
        get
        {
            lock (this)
            {
                return _completed;
            }
        }
    }

    private void ReleaseFeeders() => _feeders?.ResumeAll();

    private EnqueueResult StartWriterIfIdle()
    {
        if (_writerActive)
        {
            return EnqueueResult.Queued;
        }

        _writerActive = true;
        return EnqueueResult.StartWriter;
    }

    private void Grow()
    {
        var grown = new OutboundMessage[Math.Min(Math.Max(MinCapacity, _items.Length * 2), _capacity)];
        for (var i = 0; i < _count; i++)
        {
            grown[i] = _items[(_head + i) % _items.Length];
        }

        _items = grown;
        _head = 0;
    }
}

/// <summary>What an enqueue (or completion) did.</summary>
internal enum EnqueueResult
{
    /// <summary>Queued; a writer is already running.</summary>
    Queued,

    /// <summary>Queued (or completed); the caller must start the writer.</summary>
    StartWriter,

    /// <summary>The queue is at its limit (policy close), or at its overshoot bound (backpressure).</summary>
    Full,

    /// <summary>The queue no longer accepts messages.</summary>
    Closed,
}

/// <summary>What the writer got from <see cref="SendQueue.TryDequeue(out OutboundMessage)"/>.</summary>
internal enum DequeueResult
{
    /// <summary>A message to write.</summary>
    Message,

    /// <summary>Empty: the writer stops until the next enqueue starts it.</summary>
    Idle,

    /// <summary>Empty and completed: the writer sends the close frame.</summary>
    CloseDue,
}
