using System.Diagnostics.Metrics;

namespace LwsPlugins.Host.Diagnostics;

/// <summary>
/// The <c>LwsPlugins</c> meter: what the engine counts, for dotnet-counters, OpenTelemetry or any
/// <see cref="MeterListener"/>. Created through <see cref="IMeterFactory"/> when the host has one.
/// </summary>
internal sealed class LwsMetrics : IDisposable
{
    public const string MeterName = "LwsPlugins";

    private readonly bool _ownsMeter;

    public LwsMetrics(IMeterFactory? meterFactory)
    {
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _ownsMeter = meterFactory is null;
        Handshakes = Meter.CreateCounter<long>("lws.handshakes", "{handshake}", "WebSocket upgrade requests, by vhost, result (accepted or refused) and reason.");
        SendQueueDrops = Meter.CreateCounter<long>("lws.send_queue.drops", "{message}", "Messages dropped from full send queues (policy dropOldest), by vhost.");
        SlowConsumerCloses = Meter.CreateCounter<long>("lws.slow_consumer.closes", "{session}", "Sessions closed because their send queue was full (policy close, or past twice the limit under backpressure), by vhost.");
        FanOutPauses = Meter.CreateCounter<long>("lws.fanout.pauses", "{pause}", "Times a session stopped being read because a send queue it feeds passed its limit (policy backpressure), by vhost.");
        FanOutStalls = Meter.CreateCounter<long>("lws.fanout.stalls", "{session}", "Sessions closed with 1008 because their writer made no progress for stallTimeoutMs (policy backpressure), by vhost.");
        UnobservedTaskExceptions = Meter.CreateCounter<long>("lws.unobserved_task_exceptions", "{exception}", "Faulted tasks nothing awaited (a plugin's fire-and-forget work), reported instead of lost.");
        PluginCallbackTimeouts = Meter.CreateCounter<long>("lws.plugin.callback_timeouts", "{callback}", "Plugin callbacks that ran past the vhost's callbackTimeoutMs, by vhost, protocol and callback.");
        PluginReloads = Meter.CreateCounter<long>("lws.plugin.reloads", "{reload}", "Plugin loads after start, by plugin and result (loaded, failed, removed).");
        AccessLogDropped = Meter.CreateCounter<long>("lws.access_log.dropped", "{line}", "Access log lines dropped because the writer fell 10,000 lines behind the requests, by vhost.");
        VhostsCreated = Meter.CreateCounter<long>("lws.vhosts.created", "{vhost}", "Vhosts created.");
        VhostsDestroyed = Meter.CreateCounter<long>("lws.vhosts.destroyed", "{vhost}", "Vhosts destroyed.");
        DispatchDuration = Meter.CreateHistogram<double>("lws.message.dispatch.duration", "s", "Time a plugin takes to handle one received message, by vhost and protocol.");
        DeliveryDuration = Meter.CreateHistogram<double>("lws.message.delivery.duration", "s", "Time from queueing a message for a client to its write completing (fan-out delivery), by vhost.");
    }

    public Meter Meter { get; }

    public Counter<long> Handshakes { get; }

    public Counter<long> SendQueueDrops { get; }

    public Counter<long> SlowConsumerCloses { get; }

    public Counter<long> FanOutPauses { get; }

    public Counter<long> FanOutStalls { get; }

    public Counter<long> PluginCallbackTimeouts { get; }

    public Counter<long> UnobservedTaskExceptions { get; }

    public Counter<long> PluginReloads { get; }

    public Counter<long> AccessLogDropped { get; }

    public Counter<long> VhostsCreated { get; }

    public Counter<long> VhostsDestroyed { get; }

    public Histogram<double> DispatchDuration { get; }

    public Histogram<double> DeliveryDuration { get; }

    /// <summary>
    /// Publishes the per-vhost sessions, messages and bytes (<c>lws.sessions.active</c>, <c>lws.messages.*</c>,
    /// <c>lws.bytes.*</c>), read from the vhosts' own counts when observed: see <see cref="VhostMeters"/>.
    /// </summary>
    public void ObserveVhosts(Func<IReadOnlyCollection<Vhosts.Vhost>> vhosts) => VhostMeters.Observe(this, vhosts);

    /// <summary>Publishes the plugin generations by state (<c>lws.plugin.generations</c>), read when observed.</summary>
    public void ObserveGenerations(Func<IEnumerable<Measurement<int>>> observe)
        => Meter.CreateObservableGauge("lws.plugin.generations", observe, "{generation}", "Plugin generations held, by plugin and state.");

    /// <summary>Publishes the backplane's counts (<c>lws.backplane.*</c>), read when observed.</summary>
    public void ObserveBackplane(Func<LwsPlugins.Sdk.Status.BackplaneStatus> status)
    {
        Meter.CreateObservableCounter("lws.backplane.published", () => status().Published, "{message}", "Messages published to the other servers.");
        Meter.CreateObservableCounter("lws.backplane.received", () => status().Received, "{message}", "Messages received from the other servers.");
        Meter.CreateObservableCounter("lws.backplane.dropped", () => status().Dropped, "{message}", "Messages not published (the outbox's bounds passed while Redis was away, or the in-process inbox full).");
        Meter.CreateObservableCounter("lws.backplane.reconnects", () => status().Reconnects, "{reconnect}", "Times the backplane's connection came back.");
        Meter.CreateObservableGauge("lws.backplane.outbox", () => status().Outbox, "{message}", "Messages the outbox holds (waiting for Redis, or kept to be sent again to a Redis that lost its data).");
        Meter.CreateObservableCounter("lws.backplane.lost_reports", () => status().LostReports, "{report}", "Times a group was told messages were lost beyond recovery (its members closed with 1012).");
        Meter.CreateObservableGauge("lws.backplane.connected", () => status().State == "connected" ? 1 : 0, "{state}", "1 while the backplane is connected, 0 while it is down.");
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
