namespace LwsPlugins.Host.Sessions;

/// <summary>
/// A session's bounded send queue (lws: the ring drained on <c>LWS_CALLBACK_SERVER_WRITEABLE</c>). It also decides when
/// the session's writer runs: the enqueue that finds no writer active returns <see cref="EnqueueResult.StartWriter"/>,
/// and the writer stops when it finds the queue empty. So an idle session has no writer waiting and the queue holds no
/// array; the ring grows on demand up to the limit and shrinks again once drained. It locks itself (a thin lock, no
/// object of its own per session): it is internal to its session and never handed out.
/// </summary>
internal sealed class SendQueue(int limit, bool dropOldest)
{
    private const int MinCapacity = 4;

    /// <summary>A drained ring up to this size is kept for the next burst (no allocation per burst); a bigger one is released.</summary>
    private const int RetainedCapacity = 16;
    private OutboundMessage[] _items = [];
    private int _head;
    private int _count;
    private bool _writerActive;
    private bool _completed;

    public int Limit => limit;

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
    public EnqueueResult TryEnqueue(in OutboundMessage message, out bool dropped)
    {
        dropped = false;
        lock (this)
        {
            if (_completed)
            {
                return EnqueueResult.Closed;
            }

            if (_count == limit)
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
            return StartWriterIfIdle();
        }
    }

    /// <summary>
    /// The writer takes the oldest message. When the queue is empty it returns <see cref="DequeueResult.Idle"/> and the
    /// writer is no longer active (the next enqueue starts it again), or <see cref="DequeueResult.CloseDue"/> once the
    /// queue is completed (the writer stays active and sends the close frame).
    /// </summary>
    public DequeueResult TryDequeue(out OutboundMessage message)
    {
        lock (this)
        {
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
        var grown = new OutboundMessage[Math.Min(Math.Max(MinCapacity, _items.Length * 2), limit)];
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

    /// <summary>The queue is at its limit (policy close).</summary>
    Full,

    /// <summary>The queue no longer accepts messages.</summary>
    Closed,
}

/// <summary>What the writer got from <see cref="SendQueue.TryDequeue"/>.</summary>
internal enum DequeueResult
{
    /// <summary>A message to write.</summary>
    Message,

    /// <summary>Empty: the writer stops until the next enqueue starts it.</summary>
    Idle,

    /// <summary>Empty and completed: the writer sends the close frame.</summary>
    CloseDue,
}
