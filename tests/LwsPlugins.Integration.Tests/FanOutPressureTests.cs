using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// Fan-out paces, never kicks (policy backpressure, the default; lws 4.1.6): over real sockets, a burst reaches every
/// member, a stalled member is cut after stallTimeoutMs and only it, a slow member that keeps reading is paced, not cut.
/// </summary>
[TestFixture]
public sealed class FanOutPressureTests
{
    private const string Protocol = "lws-mirror-protocol";
    private static readonly TimeSpan Overall = TimeSpan.FromSeconds(90);

    [Test]
    public async Task OneSenderBurstingTenThousandMessages_EveryMemberGetsAllInOrder_AndNobodyIsClosed()
    {
        const int readers = 20;
        const int messages = 10_000;
        var vhost = LoopbackServer.Vhost("burst", Protocol);
        Assert.That(vhost.SlowConsumerPolicy, Is.EqualTo(SlowConsumerPolicy.Backpressure), "the default");
        await using var server = await StartAsync(vhost);
        using var pauses = new MetricCollector<long>(server.Context.Meter, "lws.fanout.pauses");
        var clients = await JoinAsync(server, "burst", "/?mirror=burst", readers + 1);
        try
        {
            var sender = clients[0];
            using var deadline = new CancellationTokenSource(Overall);
            var started = Stopwatch.GetTimestamp();
            var receiving = clients.Select(c => ReceiveSequenceAsync(c, messages, deadline.Token)).ToList();

            // Unpaced: the sender writes as fast as its socket takes the bytes, while its own echoes come back.
            for (var i = 0; i < messages; i++)
            {
                await sender.Socket.SendAsync(Message(i, 64), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
            }

            var gaps = await Task.WhenAll(receiving);
            TestContext.Out.WriteLine(
                $"{readers + 1} members got {messages} x 64 B each in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms; " +
                $"{Sum(pauses)} pauses; longest gap {gaps.Max().TotalMilliseconds:F0} ms");

            Assert.That(server.Context.Status.GetSnapshot().Vhosts.Single().Sessions, Is.EqualTo(readers + 1), "nobody was closed");
            Assert.That(server.Logs.Entries.Where(e => e.EventId.Id is 301 or 310 or 311), Is.Empty);
            Assert.That(Sum(pauses), Is.GreaterThan(0), "the burst filled a queue: the sender was paced (else this test shows nothing)");
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    [Test]
    public async Task AMemberThatStopsReading_IsClosedWith1008AfterTheStallTimeout_AndOnlyIt_TheOthersGetEverything()
    {
        const int readers = 3;
        const int messages = 10 * 1024;
        const int stallTimeoutMs = 500;
        var vhost = LoopbackServer.Vhost("stall", Protocol);
        vhost.StallTimeoutMs = stallTimeoutMs;
        await using var server = await StartAsync(vhost);
        using var stalls = new MetricCollector<long>(server.Context.Meter, "lws.fanout.stalls");

        // A small fixed receive buffer, so the stalled member's side of the connection fills soon.
        using var stalled = await RawWebSocket.UpgradeAsync(server.EndPoint("stall"), Protocol, "/?mirror=stall", receiveBufferSize: 16 * 1024);
        var clients = await JoinAsync(server, "stall", "/?mirror=stall", readers + 1);
        try
        {
            var sender = clients[0];
            using var deadline = new CancellationTokenSource(Overall);
            var receiving = clients.Select(c => ReceiveSequenceAsync(c, messages, deadline.Token)).ToList();

            // Once the server says it cut the stalled member, that client reads again: what was in flight, then the close
            // frame, and after its answer a FIN (no reset).
            var cutOff = Task.Run(async () =>
            {
                await Eventually.WaitUntilAsync(() => server.Logs.Entries.Any(e => e.EventId.Id == 310), Overall);
                var close = await stalled.ReadCloseAsync(TimeSpan.FromSeconds(30));
                await stalled.SendAsync(RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1008)));
                return (close, graceful: await stalled.IsClosedGracefullyAsync(TimeSpan.FromSeconds(10)));
            });

            for (var i = 0; i < messages; i++)
            {
                await sender.Socket.SendAsync(Message(i, 1024), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
            }

            var gaps = await Task.WhenAll(receiving);
            var (close, graceful) = await cutOff;
            TestContext.Out.WriteLine($"longest gap at a member that reads: {gaps.Max().TotalMilliseconds:F0} ms; the stalled member got {close.DataFrames} messages before its close");

            Assert.That(close.Code, Is.EqualTo(1008));
            Assert.That(close.Reason, Is.EqualTo($"stalled: no progress for {stallTimeoutMs} ms"));
            Assert.That(close.DataFrames, Is.LessThan(messages), "it really stopped reading");
            Assert.That(graceful, Is.True, "close frame, then FIN");
            Assert.That(Sum(stalls), Is.EqualTo(1));
            Assert.That(server.Logs.Entries.Count(e => e.EventId.Id == 310), Is.EqualTo(1), "logged once");

            // The senders were held only while the stalled member's queue was full: from its stall to its cut.
            Assert.That(gaps.Max(), Is.LessThan(TimeSpan.FromMilliseconds(stallTimeoutMs + 2000)));
            await Eventually.WaitUntilAsync(() => server.Context.Status.GetSnapshot().Vhosts.Single().Sessions == readers + 1);
            Assert.That(server.Logs.Entries.Where(e => e.EventId.Id is 301 or 311), Is.Empty);
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    [Test]
    public async Task AMemberThatReadsSlowlyButKeepsMoving_IsPacedNotCut_AndGetsEverything()
    {
        const int messages = 640;
        const int size = 16 * 1024;
        const int stallTimeoutMs = 1000;
        var vhost = LoopbackServer.Vhost("slow", Protocol);
        vhost.StallTimeoutMs = stallTimeoutMs;
        vhost.SendQueueLimit = 64;
        await using var server = await StartAsync(vhost);
        using var pauses = new MetricCollector<long>(server.Context.Meter, "lws.fanout.pauses");
        using var stalls = new MetricCollector<long>(server.Context.Meter, "lws.fanout.stalls");
        using var slow = await RawWebSocket.UpgradeAsync(server.EndPoint("slow"), Protocol, "/?mirror=slow", receiveBufferSize: 16 * 1024);
        var clients = await JoinAsync(server, "slow", "/?mirror=slow", 3);
        try
        {
            var sender = clients[0];
            using var deadline = new CancellationTokenSource(Overall);
            var receiving = clients.Select(c => ReceiveSequenceAsync(c, messages, deadline.Token)).ToList();
            var slowReader = Task.Run(async () =>
            {
                // Skips the joins of the later members, then reads 512 KiB at a time with a 200 ms rest in between:
                // well under the stall timeout, and far slower than the sender.
                var next = 0;
                var read = 0;
                while (next < messages)
                {
                    var (opcode, payload) = await slow.ReadFrameAsync(TimeSpan.FromSeconds(30));
                    Assert.That(opcode, Is.EqualTo(0x1), "a text message, not a close");
                    if (payload.Length != size)
                    {
                        continue;
                    }

                    Assert.That(SequenceNumber(payload), Is.EqualTo(next), "in order");
                    next++;
                    if (++read % 32 == 0)
                    {
                        await Task.Delay(200);
                    }
                }
            });

            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < messages; i++)
            {
                await sender.Socket.SendAsync(Message(i, size), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
            }

            await Task.WhenAll(receiving);
            await slowReader;
            TestContext.Out.WriteLine($"{messages} x 16 KiB through a slow member in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms; {Sum(pauses)} pauses");

            Assert.That(Sum(stalls), Is.Zero);
            Assert.That(Sum(pauses), Is.GreaterThan(0), "the slow member paced the sender");
            Assert.That(server.Context.Status.GetSnapshot().Vhosts.Single().Sessions, Is.EqualTo(4), "nobody was closed");
            Assert.That(server.Logs.Entries.Where(e => e.EventId.Id is 301 or 310 or 311), Is.Empty);
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    [Test]
    public async Task ASenderPausedLongerThanTheIdleTimeout_IsNotClosedAsIdle()
    {
        const int messages = 10 * 1024;
        var vhost = LoopbackServer.Vhost("idle", Protocol);
        vhost.StallTimeoutMs = 1500;
        vhost.IdleTimeoutMs = 400;
        await using var server = await StartAsync(vhost);
        using var stalled = await RawWebSocket.UpgradeAsync(server.EndPoint("idle"), Protocol, "/?mirror=idle", receiveBufferSize: 16 * 1024);
        var clients = await JoinAsync(server, "idle", "/?mirror=idle", 1);
        using var stop = new CancellationTokenSource();

        // The stalled member reads nothing but keeps sending (a one-byte message every 100 ms), so its idle timeout is
        // not what cuts it; the sender skips those.
        var keepAlive = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await stalled.SendAsync(RawWebSocket.Frame(0x81, "k"u8.ToArray()));
                await Task.Delay(100);
            }
        });
        try
        {
            using var deadline = new CancellationTokenSource(Overall);
            var receiving = ReceiveSequenceAsync(clients[0], messages, deadline.Token, skipShort: true);

            // The stalled member holds the sender unread for about 1.5 s, far past its 400 ms idle timeout.
            for (var i = 0; i < messages; i++)
            {
                await clients[0].Socket.SendAsync(Message(i, 1024), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
            }

            var gap = await receiving;
            TestContext.Out.WriteLine($"longest gap: {gap.TotalMilliseconds:F0} ms");

            Assert.That(gap, Is.GreaterThan(TimeSpan.FromMilliseconds(vhost.IdleTimeoutMs)), "the sender was paused longer than its idle timeout");
            Assert.That(server.Logs.Entries.Count(e => e.EventId.Id == 310), Is.EqualTo(1), "the stalled member was cut");
            Assert.That(clients[0].Socket.State, Is.EqualTo(WebSocketState.Open), "the paused sender was not closed as idle");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAny(keepAlive, Task.Delay(TimeSpan.FromSeconds(5)));
            await DisposeAllAsync(clients);
        }
    }

    [Test]
    public async Task ABackgroundSenderAwaitingSendAsync_KeepsASlowClientsQueueBounded_AndTheClientGetsEverything()
    {
        const int messages = 2000;
        const int size = 4096;
        var vhost = LoopbackServer.Vhost("flood", "lifecycle-protocol");
        vhost.SendQueueLimit = 16;
        vhost.StallTimeoutMs = 1000;
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = LoopbackServer.TestPluginsPath, WatchPlugins = false, Vhosts = [vhost] }, TimeProvider.System);
        using var client = await RawWebSocket.UpgradeAsync(server.EndPoint("flood"), "lifecycle-protocol", receiveBufferSize: 16 * 1024);

        // 8 MB from the plugin's background work, which the host cannot pause: without SendAsync waiting for room, the
        // queue would reach twice its limit (32 messages) at once and the client would be closed with 1008.
        await client.SendAsync(RawWebSocket.Frame(0x81, Encoding.UTF8.GetBytes($"flood {messages} {size}")));
        for (var next = 0; next < messages; next++)
        {
            var (opcode, payload) = await client.ReadFrameAsync(TimeSpan.FromSeconds(30));
            Assert.That(opcode, Is.EqualTo(0x1), $"message {next}: a text message, not a close");
            Assert.That(SequenceNumber(payload), Is.EqualTo(next), "in order, none lost");
            if (next % 64 == 63)
            {
                await Task.Delay(100);
            }
        }

        Assert.That(server.Logs.Entries.Where(e => e.EventId.Id is 301 or 310 or 311), Is.Empty);
        Assert.That(server.Context.Status.GetSnapshot().Vhosts.Single().Sessions, Is.EqualTo(1));
    }

    [Test]
    [NonParallelizable]
    public async Task ABurstAcrossTheRedisBackplane_PacesTheSenderToRedis_EveryMemberOnBothServersGetsAll_AndAStalledRemoteMemberIsCutAlone()
    {
        const int messages = 10 * 1024;
        const int stallTimeoutMs = 500;
        await using var redis = await RedisServer.StartAsync();

        // One vhost name on both (a mirror instance spans servers by vhost, protocol and name). A small outbox, so Redis is slower than the sender and only pacing the sender keeps messages from being
        // dropped; queues large enough that what Redis delivers (which cannot be paused) never overflows a reader.
        LwsServerOptions Options(string name)
        {
            var vhost = LoopbackServer.Vhost(name, Protocol);
            vhost.StallTimeoutMs = stallTimeoutMs;
            vhost.SendQueueLimit = 16 * 1024;
            return new LwsServerOptions
            {
                PluginsPath = LoopbackServer.BundledPluginsPath,
                WatchPlugins = false,
                Backplane = new BackplaneOptions { Redis = redis.ConnectionString, PublishQueueLimit = 256 },
                Vhosts = [vhost],
            };
        }

        await using var a = await LoopbackServer.StartAsync(Options("span"), TimeProvider.System);
        await using var b = await LoopbackServer.StartAsync(Options("span"), TimeProvider.System);
        using var stalled = await RawWebSocket.UpgradeAsync(b.EndPoint("span"), Protocol, "/?mirror=span", receiveBufferSize: 16 * 1024);
        var onA = await JoinAsync(a, "span", "/?mirror=span", 2);
        var onB = await JoinAsync(b, "span", "/?mirror=span", 2);
        var clients = onA.Concat(onB).ToList();
        try
        {
            // Both servers subscribed, then a marker each way across Redis: every member has read everything up to them.
            foreach (var server in new[] { a, b })
            {
                await Eventually.WaitUntilAsync(() => server.Context.Status.GetSnapshot().Backplane is { State: "connected", Channels: 1 }, Overall);
            }

            foreach (var (from, marker) in new[] { (onA[0], "across-from-a"), (onB[0], "across-from-b") })
            {
                await from.SendTextAsync(marker);
                await Task.WhenAll(clients.Select(c => ReceiveUntilAsync(c, marker)));
            }

            await onA[0].SendTextAsync("go");
            await Task.WhenAll(clients.Select(c => ReceiveUntilAsync(c, "go")));
            using var deadline = new CancellationTokenSource(Overall);
            var receiving = clients.Select(c => ReceiveSequenceAsync(c, messages, deadline.Token)).ToList();
            var cutOff = Task.Run(async () =>
            {
                await Eventually.WaitUntilAsync(() => b.Logs.Entries.Any(e => e.EventId.Id is 310 or 311), Overall);
                var close = await stalled.ReadCloseAsync(TimeSpan.FromSeconds(30));
                await stalled.SendAsync(RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1008)));
                return close;
            });

            for (var i = 0; i < messages; i++)
            {
                await onA[0].Socket.SendAsync(Message(i, 1024), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
            }

            await Task.WhenAll(receiving);
            var close = await cutOff;

            Assert.That(a.Context.Status.GetSnapshot().Backplane!.Dropped, Is.Zero, "the sender was paced to Redis's pace: nothing dropped");
            Assert.That(close.Code, Is.EqualTo(1008));
            Assert.That(close.Reason, Is.EqualTo($"stalled: no progress for {stallTimeoutMs} ms"), "the Redis-fed member was cut by the stall rule");
            Assert.That(a.Context.Status.GetSnapshot().Vhosts.Single().Sessions, Is.EqualTo(2));
            await Eventually.WaitUntilAsync(() => b.Context.Status.GetSnapshot().Vhosts.Single().Sessions == 2);
        }
        finally
        {
            await DisposeAllAsync(clients);
        }
    }

    private static async Task<LoopbackServer> StartAsync(VhostOptions vhost)
        => await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, WatchPlugins = false, Vhosts = [vhost] }, TimeProvider.System);

    /// <summary>Connects members one by one; each proves it joined by its own echo, and all have read everything before the test's messages.</summary>
    private static async Task<List<WsClient>> JoinAsync(LoopbackServer server, string vhost, string query, int count)
    {
        var clients = new List<WsClient>();
        for (var i = 0; i < count; i++)
        {
            var client = await WsClient.ConnectAsync(server.WebSocketUri(vhost, query), Protocol);
            clients.Add(client);
            await client.SendTextAsync($"hello-{i}");
            await ReceiveUntilAsync(client, $"hello-{i}");
        }

        await clients[0].SendTextAsync("ready");
        await Task.WhenAll(clients.Select(c => ReceiveUntilAsync(c, "ready")));
        return clients;
    }

    private static async Task ReceiveUntilAsync(WsClient client, string text)
    {
        while (await client.ReceiveTextAsync() != text)
        {
        }
    }

    /// <summary>Receives <paramref name="count"/> numbered messages, checking their order; returns the longest wait between two.</summary>
    private static async Task<TimeSpan> ReceiveSequenceAsync(WsClient client, int count, CancellationToken cancellationToken, bool skipShort = false)
    {
        // One buffer per member, not one per message: 200,000 receives must not measure the test's allocations.
        var buffer = new byte[64 * 1024];
        var longest = TimeSpan.Zero;
        var last = Stopwatch.GetTimestamp();
        for (var expected = 0; expected < count; expected++)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await client.Socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                Assert.That(result.MessageType, Is.EqualTo(WebSocketMessageType.Text), $"message {expected}: {client.Socket.CloseStatus} {client.Socket.CloseStatusDescription}");
                length += result.Count;
            }
            while (!result.EndOfMessage);

            if (skipShort && length < 8)
            {
                expected--;
                continue;
            }

            Assert.That(SequenceNumber(buffer.AsSpan(0, length)), Is.EqualTo(expected), "in order, none lost");
            var now = Stopwatch.GetTimestamp();
            var gap = Stopwatch.GetElapsedTime(last, now);
            longest = gap > longest ? gap : longest;
            last = now;
        }

        return longest;
    }

    private static byte[] Message(int number, int size)
    {
        var message = new byte[size];
        message.AsSpan().Fill((byte)'.');
        Encoding.ASCII.GetBytes(number.ToString("D8", CultureInfo.InvariantCulture), message);
        return message;
    }

    private static int SequenceNumber(ReadOnlySpan<byte> message) => int.Parse(message[..8], CultureInfo.InvariantCulture);

    private static long Sum(MetricCollector<long> collector) => collector.GetMeasurementSnapshot().Sum(m => m.Value);

    private static async Task DisposeAllAsync(List<WsClient> clients)
    {
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }
}
