using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class MirrorTests
{
    private const string Protocol = "lws-mirror-protocol";
    private LoopbackServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
        => _server = await LoopbackServer.StartAsync(LoopbackServer.BundledPluginsPath, LoopbackServer.Vhost("mirror", Protocol));

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task Message_ReachesEveryMemberIncludingTheSender_InTheSameOrder()
    {
        const int members = 3;
        const int messagesEach = 50;
        var clients = new List<WsClient>();
        try
        {
            for (var i = 0; i < members; i++)
            {
                clients.Add(await WsClient.ConnectAsync(_server.WebSocketUri("mirror", "/?mirror=order"), Protocol));
                await SyncAsync(clients);
            }

            var sends = clients.Select((client, index) => Task.Run(async () =>
            {
                for (var n = 0; n < messagesEach; n++)
                {
                    await client.SendTextAsync($"c #00ff{index:D2} {n} {index} 5;");
                }
            }));
            await Task.WhenAll(sends);

            var received = await Task.WhenAll(clients.Select(c => ReceiveManyAsync(c, members * messagesEach)));

            for (var i = 0; i < members; i++)
            {
                Assert.That(received[i], Has.Count.EqualTo(members * messagesEach), $"member {i}");
                Assert.That(received[i], Is.EqualTo(received[0]), $"member {i} saw another order than member 0");
                for (var sender = 0; sender < members; sender++)
                {
                    var fromSender = received[i].Where(m => m.StartsWith($"c #00ff{sender:D2} ", StringComparison.Ordinal)).ToList();
                    Assert.That(fromSender, Is.EqualTo(Enumerable.Range(0, messagesEach).Select(n => $"c #00ff{sender:D2} {n} {sender} 5;")));
                }
            }
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
    public async Task Instances_AreIsolatedByName_AndTheDefaultIsSeparate()
    {
        await using var a1 = await JoinAsync("/?mirror=a");
        await using var a2 = await JoinAsync("/anything?x=1&mirror=a", a1);
        await using var b = await JoinAsync("/?mirror=b");
        await using var plain = await JoinAsync("/");
        await using var emptyName = await JoinAsync("/?mirror=", plain);
        await using var upper = await JoinAsync("/?mirror=A");

        await a1.SendTextAsync("to-a");
        await b.SendTextAsync("to-b");
        await plain.SendTextAsync("to-default");
        await upper.SendTextAsync("to-A");

        Assert.That(await a1.ReceiveTextAsync(), Is.EqualTo("to-a"));
        Assert.That(await a2.ReceiveTextAsync(), Is.EqualTo("to-a"));
        Assert.That(await b.ReceiveTextAsync(), Is.EqualTo("to-b"));
        Assert.That(await plain.ReceiveTextAsync(), Is.EqualTo("to-default"));
        Assert.That(await emptyName.ReceiveTextAsync(), Is.EqualTo("to-default"));
        Assert.That(await upper.ReceiveTextAsync(), Is.EqualTo("to-A"));

        // A marker sent afterwards on each instance must be the very next message each member sees: nothing crossed.
        foreach (var (sender, receivers) in new[] { (a1, new[] { a1, a2 }), (b, new[] { b }), (plain, new[] { plain, emptyName }), (upper, new[] { upper }) })
        {
            await sender.SendTextAsync("marker");
            foreach (var receiver in receivers)
            {
                Assert.That(await receiver.ReceiveTextAsync(), Is.EqualTo("marker"));
            }
        }
    }

    [Test]
    public async Task BinaryMessage_IsForwardedAsText()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("mirror", "/?mirror=binary"), Protocol);
        await client.SendAsync(Encoding.UTF8.GetBytes("d #ff0000 1 2 3 4;"), WebSocketMessageType.Binary);

        var received = await client.ReceiveAsync();

        Assert.That(received.MessageType, Is.EqualTo(WebSocketMessageType.Text));
        Assert.That(received.Text, Is.EqualTo("d #ff0000 1 2 3 4;"));
    }

    [Test]
    public async Task NameLongerThanTheLimit_IsRefusedWithAClearReason()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("mirror", "/?mirror=" + new string('n', 257)), Protocol);

        var close = await client.ReceiveCloseAsync();

        Assert.That(close.CloseStatus, Is.EqualTo(WebSocketCloseStatus.PolicyViolation));
        Assert.That(close.CloseDescription, Does.Contain("256"));
    }

    private static async Task<List<string>> ReceiveManyAsync(WsClient client, int count)
    {
        var messages = new List<string>(count);
        while (messages.Count < count)
        {
            messages.Add(await client.ReceiveTextAsync());
        }

        return messages;
    }

    private async Task<WsClient> JoinAsync(string pathAndQuery, params WsClient[] otherMembers)
    {
        var client = await WsClient.ConnectAsync(_server.WebSocketUri("mirror", pathAndQuery), Protocol);
        await SyncAsync([.. otherMembers, client]);
        return client;
    }

    private static async Task SyncAsync(List<WsClient> clients)
    {
        // A session reads only after it has joined, so its own echo proves the newest member joined; the others joined before.
        await clients[^1].SendTextAsync("sync");
        foreach (var client in clients)
        {
            Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("sync"));
        }
    }
}
