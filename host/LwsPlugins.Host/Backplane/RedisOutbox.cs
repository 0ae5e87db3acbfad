namespace LwsPlugins.Host.Backplane;

/// <summary>
/// What this server publishes to Redis, in publishing order: entries not yet sent (pending) after entries sent already
/// (kept), both bounded together by messages, bytes and age. Kept entries are sent again, in order, to a Redis that
/// restarted without its data; the other servers skip what they saw already by sequence number. When a bound is hit
/// the oldest entry goes: a kept one costs nothing, a pending one is lost (the other servers see the gap). One reader
/// (the publish loop) takes, confirms and rewinds; any thread adds.
/// </summary>
internal sealed class RedisOutbox(int maxMessages, long maxBytes, TimeSpan maxAge, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Entry> _entries = new();
    private LinkedListNode<Entry>? _firstPending;
    private int _pending;
    private long _bytes;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Adds an entry after all others; returns the pending entries the bounds pushed out (lost).</summary>
    public IReadOnlyList<Entry>? Add(BackplaneChannel channel, byte[] frame, bool mark = false)
    {
        var now = time.GetTimestamp();
        lock (_gate)
        {
            var node = _entries.AddLast(new Entry(channel, frame, now, mark));
            _bytes += frame.Length;
            _firstPending ??= node;
            _pending++;
            return TrimLocked(now, node);
        }
    }

    /// <summary>Drops what is past the age bound (called while Redis is away, when nothing is added); returns the pending ones lost.</summary>
    public IReadOnlyList<Entry>? Trim()
    {
        lock (_gate)
        {
            return TrimLocked(time.GetTimestamp(), null);
        }
    }

    /// <summary>Copies up to <paramref name="max"/> pending entries, oldest first, without taking them.</summary>
    public void PeekPending(List<Entry> into, int max)
    {
        lock (_gate)
        {
            for (var node = _firstPending; node is not null && into.Count < max; node = node.Next)
            {
                into.Add(node.Value);
            }
        }
    }

    /// <summary>Marks the first <paramref name="count"/> pending entries sent (unless the bounds pushed them out meanwhile).</summary>
    public void Confirm(IReadOnlyList<Entry> sent, int count)
    {
        lock (_gate)
        {
            for (var i = 0; i < count && _firstPending is not null; i++)
            {
                if (!ReferenceEquals(_firstPending.Value, sent[i]))
                {
                    // Pushed out by the bounds while it was being sent; the next pending one is not this batch's.
                    continue;
                }

                _firstPending = _firstPending.Next;
                _pending--;
            }
        }
    }

    /// <summary>Makes every kept entry pending again (Redis lost them); returns how many entries are pending now.</summary>
    public int Rewind()
    {
        lock (_gate)
        {
            _firstPending = _entries.First;
            _pending = _entries.Count;
            return _pending;
        }
    }

    private List<Entry>? TrimLocked(long now, LinkedListNode<Entry>? keep)
    {
        List<Entry>? lost = null;
        while (_entries.First is { } oldest && oldest != keep
            && (_entries.Count > maxMessages || _bytes > maxBytes || time.GetElapsedTime(oldest.Value.Stamp, now) > maxAge))
        {
            // Pending entries are a suffix: the oldest is pending only when it is the first pending one.
            if (oldest == _firstPending)
            {
                _firstPending = oldest.Next;
                _pending--;
                (lost ??= []).Add(oldest.Value);
            }

            _bytes -= oldest.Value.Frame.Length;
            _entries.RemoveFirst();
        }

        return lost;
    }

    internal sealed record Entry(BackplaneChannel Channel, byte[] Frame, long Stamp, bool Mark);
}
