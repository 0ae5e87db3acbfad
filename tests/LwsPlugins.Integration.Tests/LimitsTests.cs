using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>Per-vhost limits: sessions per vhost, protocol and address, handshake rate, idle timeout, dead peers.</summary>
[TestFixture]
public sealed class LimitsTests
{
    [TestCase(nameof(VhostOptions.MaxSessions), HttpStatusCode.ServiceUnavailable, "maximum of 2 sessions")]
    [TestCase(nameof(VhostOptions.MaxSessionsPerProtocol), HttpStatusCode.ServiceUnavailable, "protocol 'lws-mirror-protocol' holds its maximum of 2")]
    [TestCase(nameof(VhostOptions.MaxSessionsPerAddress), HttpStatusCode.TooManyRequests, "127.0.0.1 holds its maximum of 2")]
    public async Task SessionLimit_RefusesTheNextHandshake_AndAdmitsAgainOnceASessionEnds(string limit, HttpStatusCode refusal, string reason)
    {
        var vhost = LoopbackServer.Vhost("limited", "lws-mirror-protocol");
        typeof(VhostOptions).GetProperty(limit)!.SetValue(vhost, 2);
        await using var server = await StartAsync(TimeProvider.System, vhost);
        var first = await JoinAsync(server);
        await using var second = await JoinAsync(server);

        var (status, body) = await RefusedHandshakeAsync(server);
        Assert.That(status, Is.EqualTo(refusal));
        Assert.That(body, Does.Contain(reason));

        await first.CloseAsync(WebSocketCloseStatus.NormalClosure, null);
        await first.DisposeAsync();
        await Eventually.WaitUntilAsync(() => server.Context.Status.GetSnapshot().Vhosts.Single().Sessions == 1);
        await using var third = await JoinAsync(server);
    }

    [TestCase(nameof(VhostOptions.MaxSessions))]
    [TestCase(nameof(VhostOptions.MaxSessionsPerProtocol))]
    [TestCase(nameof(VhostOptions.MaxSessionsPerAddress))]
    public async Task SessionLimit_HoldsUnderConcurrentHandshakes(string limit)
    {
        var vhost = LoopbackServer.Vhost("crowded", "lws-mirror-protocol");
        typeof(VhostOptions).GetProperty(limit)!.SetValue(vhost, 3);
        await using var server = await StartAsync(TimeProvider.System, vhost);

        // 24 handshakes at once: the check and the taking of a slot are one step, so exactly 3 are admitted.
        var attempts = Enumerable.Range(0, 24).Select(async _ =>
        {
            await Task.Yield();
            try
            {
                return await WsClient.ConnectAsync(server.WebSocketUri("crowded"), "lws-mirror-protocol");
            }
            catch (WebSocketException)
            {
                return null;
            }
        }).ToList();
        var clients = (await Task.WhenAll(attempts)).OfType<WsClient>().ToList();
        try
        {
            Assert.That(clients, Has.Count.EqualTo(3));
            Assert.That(server.Context.Status.GetSnapshot().Vhosts.Single().Sessions, Is.EqualTo(3));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task HandshakeRate_PerAddress_Gets429WithRetryAfter()
    {
        var vhost = LoopbackServer.Vhost("rated", "lws-mirror-protocol");
        vhost.HandshakesPerSecondPerAddress = 3;
        await using var server = await StartAsync(TimeProvider.System, vhost);
        var clients = new List<WsClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                clients.Add(await WsClient.ConnectAsync(server.WebSocketUri("rated"), "lws-mirror-protocol"));
            }

            var (status, body) = await RefusedHandshakeAsync(server);
            Assert.That(status, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(body, Does.Contain("more than 3 handshakes per second"));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task IdleSession_IsClosedWith1001_AfterTheIdleTimeout_AndActivityKeepsItOpen()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var vhost = LoopbackServer.Vhost("idle", "lws-mirror-protocol");
        vhost.IdleTimeoutMs = 10_000;
        await using var server = await StartAsync(time, vhost);
        await using var client = await JoinAsync(server);

        time.Advance(TimeSpan.FromSeconds(9));
        await client.SendTextAsync("still here");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("still here"));
        time.Advance(TimeSpan.FromSeconds(9));
        await client.SendTextAsync("and here");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("and here"));

        time.Advance(TimeSpan.FromSeconds(10));
        var close = await client.ReceiveCloseAsync();
        Assert.That(close.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        Assert.That(close.CloseDescription, Is.EqualTo("idle timeout"));
    }

    [Test]
    public async Task DeadPeer_ThatNeverAnswersPings_IsDropped()
    {
        var vhost = LoopbackServer.Vhost("pinged", "lws-mirror-protocol");
        vhost.PingIntervalMs = 200;
        vhost.PongTimeoutMs = 300;
        await using var server = await StartAsync(TimeProvider.System, vhost);

        // A raw client never answers the server's pings.
        using var peer = await RawWebSocket.UpgradeAsync(server.EndPoint("pinged"), "lws-mirror-protocol");

        Assert.That(await peer.IsClosedByServerAsync(TimeSpan.FromSeconds(10)), Is.True);
        await Eventually.WaitUntilAsync(() => server.Context.Status.GetSnapshot().Vhosts.Single().Sessions == 0);
    }

    private static async Task<LoopbackServer> StartAsync(TimeProvider time, VhostOptions vhost)
        => await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, WatchPlugins = false, Vhosts = [vhost] }, time);

    private static async Task<WsClient> JoinAsync(LoopbackServer server)
    {
        var name = server.Context.VhostNames.Single();
        var client = await WsClient.ConnectAsync(server.WebSocketUri(name), "lws-mirror-protocol");
        await client.SendTextAsync("joined");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("joined"));
        return client;
    }

    private static async Task<(HttpStatusCode? Status, string Body)> RefusedHandshakeAsync(LoopbackServer server)
    {
        var name = server.Context.VhostNames.Single();
        using var socket = await RawWebSocket.ConnectAsync(server.EndPoint(name));
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(
            $"GET / HTTP/1.1\r\nHost: {name}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n"));
        var (status, head) = await socket.ReadHttpResponseHeadAsync();
        var body = await socket.ReadToEndAsync();
        return ((HttpStatusCode)status, head + body);
    }
}
