namespace LwsPlugins.Host.Sessions;

/// <summary>Messages and payload bytes in each direction, updated lock-free.</summary>
internal sealed class TrafficCounters
{
    private long _messagesIn;
    private long _bytesIn;
    private long _messagesOut;
    private long _bytesOut;

    public long MessagesIn => Interlocked.Read(ref _messagesIn);

    public long BytesIn => Interlocked.Read(ref _bytesIn);

    public long MessagesOut => Interlocked.Read(ref _messagesOut);

    public long BytesOut => Interlocked.Read(ref _bytesOut);

    public void Received(int bytes)
    {
        Interlocked.Increment(ref _messagesIn);
        Interlocked.Add(ref _bytesIn, bytes);
    }

    public void Sent(int bytes)
    {
        Interlocked.Increment(ref _messagesOut);
        Interlocked.Add(ref _bytesOut, bytes);
    }
}
