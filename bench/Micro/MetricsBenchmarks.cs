using BenchmarkDotNet.Attributes;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Sessions;

namespace Micro;

/// <summary>
/// What the Prometheus exporter's aggregation adds to the per-message counters (a delivery: messages and bytes sent
/// plus the delivery-time histogram; a receive: messages and bytes received), with the exporter listening or not.
/// </summary>
public class MetricsHotPathBenchmarks
{
    private LwsMetrics _metrics = null!;
    private PrometheusMetrics? _prometheus;
    private TrafficCounters _traffic = null!;

    /// <summary>Whether the Prometheus exporter aggregates the meter.</summary>
    [Params(false, true)]
    public bool Exporter { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _metrics = new LwsMetrics(null);
        if (Exporter)
        {
            _prometheus = new PrometheusMetrics();
            _prometheus.Start();
        }

        _traffic = new TrafficCounters(_metrics, "bench");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _prometheus?.Dispose();
        _metrics.Dispose();
    }

    [Benchmark]
    public void Delivery() => _traffic.Sent(64, TimeSpan.FromMilliseconds(1));

    [Benchmark]
    public void Receive() => _traffic.Received(64);
}
