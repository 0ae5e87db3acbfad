using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>The LwsPlugins meter moves as sessions open, messages flow, queues drop, vhosts and plugins change.</summary>
[TestFixture]
public sealed class MetricsTests
{
    private PluginFolder _plugins = null!;
    private LoopbackServer _server = null!;

    [SetUp]
    public async Task Start()
    {
        _plugins = new PluginFolder()
            .CopyFrom(LoopbackServer.BundledPluginsPath, "mirror")
            .CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment");
        _server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = _plugins.Path, WatchPlugins = false, DestroyDelayMs = 0, Vhosts = [LoopbackServer.Vhost("metrics", "lws-mirror-protocol")] },
            TimeProvider.System);
    }

    [TearDown]
    public async Task Stop()
    {
        await _server.DisposeAsync();
        _plugins.Dispose();
    }

    [Test]
    public async Task SessionsHandshakesMessagesAndBytes_AreCounted()
    {
        using var sessions = Collect<long>("lws.sessions.active");
        using var handshakes = Collect<long>("lws.handshakes");
        using var received = Collect<long>("lws.messages.received");
        using var sent = Collect<long>("lws.messages.sent");
        using var bytesIn = Collect<long>("lws.bytes.received");
        using var bytesOut = Collect<long>("lws.bytes.sent");
        using var dispatch = Collect<double>("lws.message.dispatch.duration");
        using var delivery = Collect<double>("lws.message.delivery.duration");

        await using (var client = await WsClient.ConnectAsync(_server.WebSocketUri("metrics"), "lws-mirror-protocol"))
        {
            await client.SendTextAsync("hello");
            Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("hello"));
            sessions.RecordObservableInstruments();
            var open = sessions.GetMeasurementSnapshot(clear: true).Where(m => Equals(m.Tags["vhost"], "metrics"));
            Assert.That(open.Select(m => (m.Tags["protocol"], m.Value)), Is.EqualTo(new (object?, long)[] { ("lws-mirror-protocol", 1) }));
            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null);
        }

        await Refused("no-such-protocol");
        await Eventually.WaitUntilAsync(() => Observed(sessions) == 0);

        Assert.That(handshakes.GetMeasurementSnapshot().Select(m => (m.Tags["result"], m.Tags["reason"])), Is.EquivalentTo(new (object?, object?)[] { ("accepted", "ok"), ("refused", "unknown_protocol") }));
        Assert.That(Observed(received), Is.EqualTo(1));
        Assert.That(Observed(sent), Is.EqualTo(1));
        Assert.That(Observed(bytesIn), Is.EqualTo(5));
        Assert.That(Observed(bytesOut), Is.EqualTo(5));
        Assert.That(dispatch.GetMeasurementSnapshot(), Has.Count.EqualTo(1));
        Assert.That(delivery.GetMeasurementSnapshot(), Has.Count.EqualTo(1));
        Assert.That(delivery.LastMeasurement!.Value, Is.GreaterThanOrEqualTo(0));
    }

    [TestCase(SlowConsumerPolicy.DropOldest, "lws.send_queue.drops")]
    [TestCase(SlowConsumerPolicy.Close, "lws.slow_consumer.closes")]
    [TestCase(SlowConsumerPolicy.Backpressure, "lws.fanout.stalls")]
    [TestCase(SlowConsumerPolicy.Backpressure, "lws.fanout.pauses")]
    public async Task AReaderThatNeverReads_MovesTheSlowConsumerInstrument(SlowConsumerPolicy policy, string instrument)
    {
        using var collector = Collect<long>(instrument);
        var vhost = LoopbackServer.Vhost("slow", "lws-mirror-protocol");
        vhost.SendQueueLimit = 4;
        vhost.SlowConsumerPolicy = policy;
        vhost.StallTimeoutMs = 500;
        var endPoint = await _server.Context.CreateVhostAsync(vhost, CancellationToken.None);
        var uri = new Uri($"ws://{endPoint}/?mirror=slow");
        await using var stalled = await WsClient.ConnectAsync(uri, "lws-mirror-protocol");
        await using var sender = await WsClient.ConnectAsync(uri, "lws-mirror-protocol");
        var payload = new string('x', 64 * 1024);

        // The stalled client never reads: once the socket buffers are full its queue fills, and the policy applies.
        for (var i = 0; i < 400 && collector.GetMeasurementSnapshot().Count == 0; i++)
        {
            await sender.SendTextAsync(payload);
            await sender.ReceiveTextAsync();
        }

        Assert.That(Sum(collector), Is.GreaterThan(0));
        Assert.That(collector.LastMeasurement!.Tags["vhost"], Is.EqualTo("slow"));
    }

    [Test]
    public async Task VhostsAndPluginReloads_AreCounted_AndGenerationsObserved()
    {
        using var created = Collect<long>("lws.vhosts.created");
        using var destroyed = Collect<long>("lws.vhosts.destroyed");
        using var reloads = Collect<long>("lws.plugin.reloads");
        using var generations = Collect<int>("lws.plugin.generations");

        await _server.Context.CreateVhostAsync(LoopbackServer.Vhost("extra", "dumb-increment-protocol"), CancellationToken.None);
        await _server.Context.DestroyVhostAsync("extra", CancellationToken.None);
        var manifest = Path.Combine(_plugins.Path, "mirror", "mirror.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("1.0.0\"", "1.0.1\"", StringComparison.Ordinal));
        await _server.Context.ReloadPluginAsync(Path.Combine(_plugins.Path, "mirror"));
        File.WriteAllText(Path.Combine(_plugins.Path, "mirror", "LwsPlugins.Plugins.Mirror.dll"), "not an assembly");
        await _server.Context.ReloadPluginAsync(Path.Combine(_plugins.Path, "mirror"));

        Assert.That(Sum(created), Is.EqualTo(1));
        Assert.That(Sum(destroyed), Is.EqualTo(1));
        Assert.That(reloads.GetMeasurementSnapshot().Select(m => (m.Tags["plugin"], m.Tags["result"])), Is.EqualTo(new (object?, object?)[] { ("mirror", "loaded"), ("mirror", "failed") }));
        generations.RecordObservableInstruments();
        var mirror = generations.GetMeasurementSnapshot().Where(m => Equals(m.Tags["plugin"], "mirror")).ToDictionary(m => (string)m.Tags["state"]!, m => m.Value);
        Assert.That(mirror["active"], Is.EqualTo(1));
        Assert.That(mirror["failed"], Is.EqualTo(1));
    }

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(_server.Context.Meter, instrument);

    private static long Sum(MetricCollector<long> collector) => collector.GetMeasurementSnapshot().Sum(m => m.Value);

    /// <summary>An observed instrument's value now, for the test's vhost (sessions, messages and bytes are read when observed).</summary>
    private static long Observed(MetricCollector<long> collector)
    {
        collector.RecordObservableInstruments();
        return collector.GetMeasurementSnapshot(clear: true).Where(m => Equals(m.Tags["vhost"], "metrics")).Sum(m => m.Value);
    }

    private async Task Refused(string protocol)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(protocol);
        Assert.That(async () => await socket.ConnectAsync(_server.WebSocketUri("metrics"), CancellationToken.None), Throws.InstanceOf<WebSocketException>());
    }
}
