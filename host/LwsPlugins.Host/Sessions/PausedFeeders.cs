namespace LwsPlugins.Host.Sessions;

/// <summary>
/// The sessions one queue keeps from being read (policy backpressure): each held once however often it feeds the queue
/// past its mark, all released together when the queue drains. Not thread-safe: its owner (a send queue, the Redis
/// outbox) calls it under the lock that also decides when to pause and when to resume, so no release misses a hold.
/// </summary>
internal sealed class PausedFeeders
{
    private readonly HashSet<ReadGate> _gates = [];

    public int Count => _gates.Count;

    /// <summary>Holds <paramref name="feeder"/>'s gate unless this queue holds it already; true when a pause began.</summary>
    public bool Pause(ReadGate feeder) => _gates.Add(feeder) && feeder.Hold();

    public void ResumeAll()
    {
        foreach (var gate in _gates)
        {
            gate.Release();
        }

        _gates.Clear();
    }
}
