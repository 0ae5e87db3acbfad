using BenchmarkDotNet.Attributes;
using LwsPlugins.Host.Diagnostics;
using System.Net;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Vhosts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Micro;

/// <summary>
/// One scrape of <c>/metrics</c> (the exporter's text written to a memory stream) with every per-vhost series present for
/// that many vhosts, each with two protocols: sessions (observed from the vhosts), handshakes, traffic counters
/// (observed) and both histograms.
/// </summary>
public class ScrapeBenchmarks
{
    private LwsMetrics _metrics = null!;
    private PrometheusMetrics _prometheus = null!;

    /// <summary>Vhosts with series in the meter.</summary>
    [Params(1, 100, 1000)]
    public int Vhosts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _metrics = new LwsMetrics(null);
        _prometheus = new PrometheusMetrics();
        _prometheus.Start();
        var vhosts = new List<Vhost>();
        _metrics.ObserveVhosts(() => vhosts);
        for (var v = 0; v < Vhosts; v++)
        {
            var name = $"vhost-{v}.example";
            var protocols = new[] { "lws-mirror-protocol", "dumb-increment-protocol" };
            var vhost = new Vhost(
                new VhostOptions { Name = name }, IPAddress.Loopback, [.. protocols.Select(p => new VhostProtocol(p, null, null, "bench"))], tls: null,
                TimeProvider.System, NullLoggerFactory.Instance, _metrics, () => { });
            vhosts.Add(vhost);
            foreach (var protocol in protocols)
            {
                _metrics.DispatchDuration.Record(0.0001, vhost.Traffic.VhostTag, new("protocol", protocol));
            }

            _metrics.Handshakes.Add(10, vhost.Traffic.VhostTag, new("result", "accepted"), new("reason", "ok"));
            vhost.Traffic.Received(64);
            vhost.Traffic.Sent(64, TimeSpan.FromMilliseconds(1));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _prometheus.Dispose();
        _metrics.Dispose();
    }

    [Benchmark]
    public async Task<long> Scrape()
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "GET";
        http.Request.Path = "/metrics";
        using var body = new MemoryStream();
        http.Response.Body = body;
        await _prometheus.WriteAsync(http);
        return body.Length;
    }
}
