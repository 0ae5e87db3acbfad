using System.Collections.Concurrent;
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

        Assert.That(error!.Message, Does.StartWith($"backplane.redis: cannot connect to Redis at {redis.ConnectionString}").And.Contain("localOnly"));
    }

    [Test]
    public async Task LocalOnly_WhileRedisIsDown_PublishingReturnsAtOnceAndCountsDrops()
    {
        var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        await using var backplane = Create(redis.ConnectionString, BackplaneStartFailure.LocalOnly);
        await backplane.StartAsync(CancellationToken.None);
        using var link = backplane.Join("v/p/g", (_, _) => { });

        var results = Enumerable.Range(0, 1000).Select(_ => link.TryPublish("s", WebSocketMessageType.Text, "x"u8.ToArray())).ToList();

        var status = backplane.GetStatus();
        Assert.That(results, Is.All.False);
        Assert.That(status.State, Is.EqualTo("down"));
        Assert.That(status.Dropped, Is.EqualTo(1000));
        Assert.That(status.Channels, Is.Zero);
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
            Assert.That(linkA.TryPublish("s", WebSocketMessageType.Text, Encoding.UTF8.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture))), Is.True);
        }

        linkB.TryPublish("s", WebSocketMessageType.Text, "from-b"u8.ToArray());
        await Eventually.WaitUntilAsync(() => atB.Count == 500 && atA.Count == 1);
        await Task.Delay(100);

        Assert.That(atB, Is.EqualTo(Enumerable.Range(0, 500).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))));
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
