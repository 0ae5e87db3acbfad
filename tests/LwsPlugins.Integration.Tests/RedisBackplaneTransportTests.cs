using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host.Backplane;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Logging.Abstractions;

namespace LwsPlugins.Integration.Tests;

/// <summary>The Redis backplane on its own, against a real redis-server (or a port where none listens).</summary>
[TestFixture]
public sealed class RedisBackplaneTransportTests
{
    [Test]
    public async Task FailMode_RedisUnreachableAtStart_ThrowsNamingTheEndpointAndTheWayOut()
    {
        var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        await using var backplane = Create(redis.ConnectionString, BackplaneStartFailure.Fail);

        var error = Assert.ThrowsAsync<LwsConfigurationException>(() => backplane.StartAsync(CancellationToken.None));

        Assert.That(error!.Message, Does.StartWith($"backplane.redis: cannot connect to Redis at {redis.ConnectionString}: not reachable within 500 ms").And.Contain("localOnly"));
        Assert.That(error.Message, Does.Not.Contain("abortConnect"), "no advice about the library's connection string");
    }

    [Test]
    public async Task LocalOnly_WhileRedisIsDown_PublicationsWaitInTheOutbox_AndReachTheOtherServerInOrderOnceRedisIsUp()
    {
        await using var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        await using var a = Create(redis.ConnectionString, BackplaneStartFailure.LocalOnly);
        await using var b = Create(redis.ConnectionString, BackplaneStartFailure.LocalOnly);
        await a.StartAsync(CancellationToken.None);
        await b.StartAsync(CancellationToken.None);
        var atB = new ConcurrentQueue<string>();
        using var linkA = a.Join("v/p/g", (_, _) => { });
        using var linkB = b.Join("v/p/g", (_, payload) => atB.Enqueue(Encoding.UTF8.GetString(payload.Span)));
        await Eventually.WaitUntilAsync(() => a.GetStatus().Channels == 1 && b.GetStatus().Channels == 1);

        var results = Enumerable.Range(0, 1000).Select(n => linkA.TryPublish("s", WebSocketMessageType.Text, Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture)))).ToList();

        var down = a.GetStatus();
        Assert.That(results, Is.All.True, "held, not dropped");
        Assert.That(down.State, Is.EqualTo("down"));
        Assert.That(down.Outbox, Is.EqualTo(1000));
        Assert.That(down.Dropped, Is.Zero);

        await redis.RestartAsync();
        await Eventually.WaitUntilAsync(() => atB.Count == 1000, TimeSpan.FromSeconds(20));
        await Task.Delay(200);
        Assert.That(atB, Is.EqualTo(Enumerable.Range(0, 1000).Select(n => n.ToString(CultureInfo.InvariantCulture))));
        Assert.That(a.GetStatus(), Has.Property("State").EqualTo("connected").And.Property("Published").EqualTo(1000));
        Assert.That(b.GetStatus().Gaps, Is.Zero);
    }

    [Test]
    public async Task TwoBackplanes_ExchangeInOrder_SkipTheirOwn_AndTheLastLeaveUnsubscribes()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = Create(redis.ConnectionString, BackplaneStartFailure.Fail);
        await using var b = Create(redis.ConnectionString, BackplaneStartFailure.Fail);
        await a.StartAsync(CancellationToken.None);
        await b.StartAsync(CancellationToken.None);
        var atA = new ConcurrentQueue<string>();
        var atB = new ConcurrentQueue<string>();
        var linkA = a.Join("v/p/g", (_, payload) => atA.Enqueue(Encoding.UTF8.GetString(payload.Span)));
        var linkB = b.Join("v/p/g", (_, payload) => atB.Enqueue(Encoding.UTF8.GetString(payload.Span)));
        await Eventually.WaitUntilAsync(() => a.GetStatus().Channels == 1 && b.GetStatus().Channels == 1);

        for (var n = 0; n < 500; n++)
        {
            Assert.That(linkA.TryPublish("s", WebSocketMessageType.Text, Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture))), Is.True);
        }

        linkB.TryPublish("s", WebSocketMessageType.Text, "from-b"u8.ToArray());
        await Eventually.WaitUntilAsync(() => atB.Count == 500 && atA.Count == 1);
        await Task.Delay(100);

        Assert.That(atB, Is.EqualTo(Enumerable.Range(0, 500).Select(n => n.ToString(CultureInfo.InvariantCulture))));
        Assert.That(atA, Is.EqualTo(new[] { "from-b" }), "A got B's message and none of its own");
        Assert.That(a.GetStatus().Published, Is.EqualTo(500));
        Assert.That(b.GetStatus().Received, Is.EqualTo(500));

        linkB.Dispose();
        await Eventually.WaitUntilAsync(() => b.GetStatus().Channels == 0);
        linkA.TryPublish("s", WebSocketMessageType.Text, "after-leave"u8.ToArray());
        await Eventually.WaitUntilAsync(() => a.GetStatus().Published == 501);
        await Task.Delay(100);
        Assert.That(atB, Has.Count.EqualTo(500), "a disposed link gets nothing more");
        linkA.Dispose();
    }

    private static RedisBackplane Create(string connection, BackplaneStartFailure onStartFailure)
        => new(new BackplaneOptions { Redis = connection, OnStartFailure = onStartFailure, ConnectTimeoutMs = 500 }, TimeProvider.System, NullLogger.Instance);
}
