using System.Diagnostics;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>A member that never reads must not slow a fan-out to the others, nor grow the server's memory without bound.</summary>
[TestFixture]
public sealed class SlowConsumerTests
{
    [Test]
    public async Task AReaderThatNeverReads_DoesNotSlowAFanOutToAHundredOthers()
    {
        const int readers = 100;
        const int messages = 60;
        var vhost = LoopbackServer.Vhost("fanout", "lws-mirror-protocol");
        vhost.SendQueueLimit = 64;

        // This test is about policy close (the default is backpressure: FanOutPressureTests).
        vhost.SlowConsumerPolicy = SlowConsumerPolicy.Close;
        await using var server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, WatchPlugins = false, Vhosts = [vhost] }, TimeProvider.System);
        var uri = server.WebSocketUri("fanout", "/?mirror=fanout");

        // The stalled member joins first, so every broadcast reaches it before the readers.
        using var stalled = await RawWebSocket.UpgradeAsync(server.EndPoint("fanout"), "lws-mirror-protocol", "/?mirror=fanout");
        var clients = new List<WsClient>();
        try
        {
            for (var i = 0; i < readers; i++)
            {
                // A session reads only after it has joined, so its own echo proves it is in the instance.
                var reader = await WsClient.ConnectAsync(uri, "lws-mirror-protocol");
                clients.Add(reader);
                await reader.SendTextAsync($"hello-{i}");
                await ReceiveUntilAsync(reader, $"hello-{i}");
            }

            var sender = clients[0];
            await sender.SendTextAsync("ready");
            await Task.WhenAll(clients.Select(c => ReceiveUntilAsync(c, "ready")));
            var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

            var payload = new string('p', 32 * 1024);
            var started = Stopwatch.GetTimestamp();
            var receiving = clients.Select(async c =>
            {
                for (var m = 0; m < messages; m++)
                {
                    Assert.That((await c.ReceiveTextAsync()).Length, Is.EqualTo(payload.Length));
                }
            }).ToList();
            for (var m = 0; m < messages; m++)
            {
                await sender.SendTextAsync(payload);
            }

            await Task.WhenAll(receiving);
            var elapsed = Stopwatch.GetElapsedTime(started);
            TestContext.Out.WriteLine($"{readers} readers got {messages} x 32 KiB each in {elapsed.TotalMilliseconds:F0} ms");

            Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the readers were held up by the stalled member");
            Assert.That(GC.GetTotalMemory(forceFullCollection: true), Is.LessThan(memoryBefore + (64 << 20)), "memory grew without bound");

            // Keep sending to the stalled member alone (a new instance would not reach it): its bounded queue fills and it is cut off.
            for (var m = 0; m < 400 && server.Context.Status.GetSnapshot().Vhosts.Single().Sessions > readers; m++)
            {
                await sender.SendTextAsync(payload);
                await Task.WhenAll(clients.Select(c => c.ReceiveTextAsync()));
            }

            // A member that reads nothing cannot read a close frame either: it is cut off, and the server says why.
            await Eventually.WaitUntilAsync(() => server.Context.Status.GetSnapshot().Vhosts.Single().Sessions == readers);
            Assert.That(server.Logs.Entries.Count(e => e.EventId.Id == 301), Is.EqualTo(1), "exactly the stalled member was closed as a slow consumer");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Reads (skipping the joins of later members) until <paramref name="text"/> arrives.</summary>
    private static async Task ReceiveUntilAsync(WsClient client, string text)
    {
        while (await client.ReceiveTextAsync() != text)
        {
        }
    }
}
