using System.Diagnostics.Metrics;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Host.Vhosts;

namespace LwsPlugins.Host.Diagnostics;

/// <summary>
/// The per-vhost instruments read from the engine's own counts when observed (a scrape, an export): open sessions by
/// protocol, and messages and bytes each way. Nothing is recorded per message for them, so a meter listener costs the
/// hot path nothing for these, and whenever a listener starts (the Prometheus exporter starts with the first metrics
/// endpoint) it sees the whole counts, not the changes since it started.
/// </summary>
internal static class VhostMeters
{
    public static void Observe(LwsMetrics metrics, Func<IReadOnlyCollection<Vhost>> vhosts)
    {
        var meter = metrics.Meter;
        meter.CreateObservableUpDownCounter("lws.sessions.active", () => Sessions(vhosts()), "{session}", "Open WebSocket sessions, by vhost and protocol.");
        meter.CreateObservableCounter("lws.messages.received", () => Traffic(vhosts(), t => t.MessagesIn), "{message}", "Whole messages received from clients, by vhost.");
        meter.CreateObservableCounter("lws.messages.sent", () => Traffic(vhosts(), t => t.MessagesOut), "{message}", "Messages written to clients, by vhost.");
        meter.CreateObservableCounter("lws.bytes.received", () => Traffic(vhosts(), t => t.BytesIn), "By", "Payload bytes received from clients, by vhost.");
        meter.CreateObservableCounter("lws.bytes.sent", () => Traffic(vhosts(), t => t.BytesOut), "By", "Payload bytes written to clients, by vhost.");
    }

    private static IEnumerable<Measurement<long>> Sessions(IReadOnlyCollection<Vhost> vhosts)
    {
        var counts = new Dictionary<(string Vhost, string Protocol), long>();
        foreach (var vhost in vhosts)
        {
            foreach (var protocol in vhost.Protocols)
            {
                var key = (vhost.Name, protocol.Name);
                counts[key] = counts.GetValueOrDefault(key) + protocol.Instances.Sum(i => (long)i.Sessions);
            }
        }

        return counts.Select(c => new Measurement<long>(c.Value, new("vhost", c.Key.Vhost), new("protocol", c.Key.Protocol)));
    }

    private static IEnumerable<Measurement<long>> Traffic(IReadOnlyCollection<Vhost> vhosts, Func<TrafficCounters, long> count)
    {
        // A vhost being destroyed and its successor of the same name count as one series, as their sessions do.
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var vhost in vhosts)
        {
            totals[vhost.Name] = totals.GetValueOrDefault(vhost.Name) + count(vhost.Traffic);
        }

        return totals.Select(t => new Measurement<long>(t.Value, new KeyValuePair<string, object?>("vhost", t.Key)));
    }
}
