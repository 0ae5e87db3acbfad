using System.Globalization;
using System.Net.WebSockets;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class FaultIsolationTests
{
    private PluginFolder _plugins = null!;
    private LoopbackServer _server = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        _plugins = new PluginFolder()
            .CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment")
            .CopyFrom(LoopbackServer.TestPluginsPath, "throwing");
        _server = await LoopbackServer.StartAsync(_plugins.Path, LoopbackServer.Vhost("faulty", "throwing-protocol", "dumb-increment-protocol"));
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await _server.DisposeAsync();
        _plugins.Dispose();
    }

    [Test]
    public async Task ThrowingPlugin_ClosesOnlyItsSessionWith1011_AndOthersCarryOn()
    {
        await using var victim = await WsClient.ConnectAsync(_server.WebSocketUri("faulty"), "throwing-protocol");
        await using var bystander = await WsClient.ConnectAsync(_server.WebSocketUri("faulty"), "throwing-protocol");
        await using var counter = await WsClient.ConnectAsync(_server.WebSocketUri("faulty"), "dumb-increment-protocol");
        await counter.ReceiveTextAsync();

        await victim.SendTextAsync("boom");
        var close = await victim.ReceiveCloseAsync();

        Assert.That(close.CloseStatus, Is.EqualTo(WebSocketCloseStatus.InternalServerError));
        await bystander.SendTextAsync("still here");
        Assert.That(await bystander.ReceiveTextAsync(), Is.EqualTo("still here"));
        var before = int.Parse(await counter.ReceiveTextAsync(), CultureInfo.InvariantCulture);
        Assert.That(int.Parse(await counter.ReceiveTextAsync(), CultureInfo.InvariantCulture), Is.EqualTo(before + 1));

        var logged = _server.Logs.Entries.Single(e => e.EventId.Id == 300);
        Assert.That(logged.Message, Does.Contain("throwing").And.Contain("throwing-protocol").And.Contain("1011"));
        Assert.That(logged.Exception, Is.InstanceOf<InvalidOperationException>());
    }

    [Test]
    public async Task LeakedTaskThatFails_IsReported_AndTheSessionAndServerCarryOn()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("faulty"), "throwing-protocol");
        await client.SendTextAsync("leak");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("leaked"));

        // The faulted task is reported when the GC finalizes it; nudge the GC until it has.
        await Eventually.WaitUntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return _server.Logs.Entries.Any(e => e.EventId.Id == 309 && e.Exception?.InnerException?.Message == "leaked task failed");
        });
        var reported = _server.Logs.Entries.First(e => e.EventId.Id == 309 && e.Exception?.InnerException?.Message == "leaked task failed");
        Assert.That(reported.Message, Does.Contain("LwsPlugins.TestPlugins.Throwing"));

        await client.SendTextAsync("still here");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("still here"));
    }
}
