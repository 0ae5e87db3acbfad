namespace LwsPlugins.Host.Vhosts;

/// <summary>Counts protocol instances created and not yet disposed, so leaks show in diagnostics and tests.</summary>
internal sealed class ProtocolInstanceCounter
{
    private int _live;

    public int Live => Volatile.Read(ref _live);

    public void Created() => Interlocked.Increment(ref _live);

    public void Disposed() => Interlocked.Decrement(ref _live);
}
