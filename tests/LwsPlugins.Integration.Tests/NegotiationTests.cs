using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class NegotiationTests
{
    private LoopbackServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
        => _server = await LoopbackServer.StartAsync(
            LoopbackServer.BundledPluginsPath,
            LoopbackServer.Vhost("both", "dumb-increment-protocol", "lws-mirror-protocol"),
            LoopbackServer.Vhost("dumb-only", "dumb-increment-protocol"));

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task FirstRequestedProtocolTheVhostServes_IsChosen()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("both"), "unknown-protocol", "lws-mirror-protocol", "dumb-increment-protocol");

        Assert.That(client.SubProtocol, Is.EqualTo("lws-mirror-protocol"));
    }

    [TestCase("dumb-only", "lws-mirror-protocol", TestName = "VhostNotListingTheProtocol_RefusesIt")]
    [TestCase("both", "no-such-protocol", TestName = "UnknownProtocol_IsRefused")]
    [TestCase("both", "Dumb-Increment-Protocol", TestName = "WrongCaseProtocol_IsRefused")]
    public async Task RefusedUpgrade_GetsAnHttpErrorAndNoUpgrade(string vhost, string protocol)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(protocol);
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);

        Assert.That(async () => await socket.ConnectAsync(_server.WebSocketUri(vhost), timeout.Token), Throws.InstanceOf<WebSocketException>());
        Assert.That(socket.HttpStatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(_server.Logs.Entries.Any(e => e.EventId.Id == 205 && e.Message.Contains(protocol, StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task NoProtocolRequested_IsAcceptedAndNothingIsSent()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("both"));
        Assert.That(client.SubProtocol, Is.Null);

        // The echo of our close must be the first thing the server sends: no data went out before it.
        await client.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var first = await client.ReceiveAsync();

        Assert.That(first.MessageType, Is.EqualTo(WebSocketMessageType.Close));
    }

    [Test]
    public async Task ClientClose_IsEchoedWithTheSameCodeAndReason()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("both"), "lws-mirror-protocol");

        await client.CloseAsync((WebSocketCloseStatus)4000, "bye now");

        Assert.That(client.Socket.CloseStatus, Is.EqualTo((WebSocketCloseStatus)4000));
        Assert.That(client.Socket.CloseStatusDescription, Is.EqualTo("bye now"));
    }
}
