using LwsPlugins.Host.Diagnostics;

namespace LwsPlugins.Host.Sessions;

/// <summary>
/// One vhost's messages and payload bytes in each direction: totals for the status document and the meter (observed
/// from these totals, see <see cref="VhostMeters"/>), and the delivery-time histogram, recorded only while a meter
/// listener (the Prometheus exporter, OTLP, dotnet-counters) listens.
/// </summary>
internal sealed class TrafficCounters(LwsMetrics metrics, string vhost)
{
    private readonly KeyValuePair<string, object?> _vhostTag = new("vhost", vhost);
    private long _messagesIn;
    private long _bytesIn;
    private long _messagesOut;
    private long _bytesOut;

    public LwsMetrics Metrics => metrics;

    public KeyValuePair<string, object?> VhostTag => _vhostTag;

    public long MessagesIn => Interlocked.Read(ref _messagesIn);

    public long BytesIn => Interlocked.Read(ref _bytesIn);

    public long MessagesOut => Interlocked.Read(ref _messagesOut);

    public long BytesOut => Interlocked.Read(ref _bytesOut);

    public void Received(int bytes)
    {
        Interlocked.Increment(ref _messagesIn);
        Interlocked.Add(ref _bytesIn, bytes);
    }

    public void Sent(int bytes, TimeSpan sinceQueued)
    {
        Interlocked.Increment(ref _messagesOut);
        Interlocked.Add(ref _bytesOut, bytes);
        metrics.DeliveryDuration.Record(sinceQueued.TotalSeconds, _vhostTag);
    }
}
