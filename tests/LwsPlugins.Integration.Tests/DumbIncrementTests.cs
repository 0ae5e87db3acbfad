using System.Globalization;
using System.Net.WebSockets;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class DumbIncrementTests
{
    private const string Protocol = "dumb-increment-protocol";
    private LoopbackServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
        => _server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath, LoopbackServer.Vhost("dumb", Protocol));

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task Counter_StartsAtZeroAndCountsUpByOne()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("dumb"), Protocol);
        Assert.That(client.SubProtocol, Is.EqualTo(Protocol));

        var values = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            values.Add(int.Parse(await client.ReceiveTextAsync(), CultureInfo.InvariantCulture));
        }

        Assert.That(values, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public async Task EachSession_HasItsOwnCounter()
    {
        await using var first = await WsClient.ConnectAsync(_server.WebSocketUri("dumb"), Protocol);
        for (var i = 0; i < 4; i++)
        {
            await first.ReceiveTextAsync();
        }

        await using var second = await WsClient.ConnectAsync(_server.WebSocketUri("dumb"), Protocol);
        Assert.That(await second.ReceiveTextAsync(), Is.EqualTo("0"));
    }

    [Test]
    public async Task Reset_SetsTheCounterBackToZero()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("dumb"), Protocol);
        int value;
        do
        {
            value = int.Parse(await client.ReceiveTextAsync(), CultureInfo.InvariantCulture);
        }
        while (value < 5);

        await client.SendTextAsync("reset\n");

        // Values already queued before the reset may still arrive; the counter must then restart from 0.
        var afterReset = new List<int>();
        for (var i = 0; i < 20 && !afterReset.Contains(0); i++)
        {
            afterReset.Add(int.Parse(await client.ReceiveTextAsync(), CultureInfo.InvariantCulture));
        }

        Assert.That(afterReset, Does.Contain(0));
        Assert.That(int.Parse(await client.ReceiveTextAsync(), CultureInfo.InvariantCulture), Is.EqualTo(1));
    }

    [Test]
    public async Task CloseMe_ClosesWith1001AndSeeya()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("dumb"), Protocol);
        await client.ReceiveTextAsync();
        await client.SendTextAsync("closeme\n");

        var close = await client.ReceiveCloseAsync();

        Assert.That(close.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        Assert.That(close.CloseDescription, Is.EqualTo("seeya"));
    }

    [Test]
    public async Task JunkMessage_IsIgnoredAndTheSessionGoesOn()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("dumb"), Protocol);
        await client.ReceiveTextAsync();
        await client.SendTextAsync(new string('x', 9000));

        var before = int.Parse(await client.ReceiveTextAsync(), CultureInfo.InvariantCulture);
        var after = int.Parse(await client.ReceiveTextAsync(), CultureInfo.InvariantCulture);

        Assert.That(after, Is.EqualTo(before + 1));
    }
}
