using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace LwsPlugins.Host.Diagnostics;

/// <summary>
/// The <see cref="LwsMetrics"/> meter in Prometheus text format (<c>lws.sessions.active</c> becomes
/// <c>lws_sessions_active</c>, counters end in <c>_total</c>, units in <c>_bytes</c>/<c>_seconds</c>), through the
/// OpenTelemetry Prometheus exporter: the same SDK as the server's OTLP push, so both name the series alike. The
/// context owns one, so the admin API and every vhost's <c>metricsPath</c> answer from the same aggregation whoever
/// hosts them.
/// </summary>
internal sealed class PrometheusMetrics : IDisposable
{
    private readonly Lock _gate = new();
    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();
    private MeterProvider? _provider;
    private RequestDelegate? _scrape;
    private bool _disposed;

    /// <summary>Whether the exporter aggregates the meter (since the first metrics endpoint appeared).</summary>
    public bool IsStarted => Volatile.Read(ref _scrape) is not null;

    /// <summary>
    /// Starts aggregating, once: from then on every measurement of the meter is aggregated for scrapes. Until a metrics
    /// endpoint exists (the admin API, or a vhost's <c>metricsPath</c>) nothing listens, so the hot path's histograms
    /// cost nothing; the counters and gauges are observed from the engine's own totals, so they are whole from the start.
    /// </summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_scrape is not null || _disposed)
            {
                return;
            }

            _provider = OpenTelemetry.Sdk.CreateMeterProviderBuilder()
                .AddMeter(LwsMetrics.MeterName)

                // A scrape shows the counts as they are now: a cached answer would hide the request that just happened.
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0)
                .Build();

            // The exporter's middleware is internal: its public extension builds it into a pipeline of our own, which
            // answers every request it is given (the admin API and the vhosts route to it).
            var app = new ApplicationBuilder(_services);
            app.UseOpenTelemetryPrometheusScrapingEndpoint(_provider, predicate: _ => true, path: null, configureBranchedPipeline: null, optionsName: null);
            Volatile.Write(ref _scrape, app.Build());
        }
    }

    /// <summary>Answers a scrape (any path: the caller decided it is one).</summary>
    public Task WriteAsync(HttpContext http)
    {
        Start();
        return _scrape is { } scrape ? scrape(http) : Task.CompletedTask;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _provider?.Dispose();
            _services.Dispose();
        }
    }
}
