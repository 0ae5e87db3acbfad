using System.Net.WebSockets;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// Plugin callbacks that never finish (a blocked thread, a task that never completes) are timed out on the vhost's
/// clock: the session closes with 1011, the instance's timeouts are reported, other sessions carry on, and the vhost
/// can still be destroyed.
/// </summary>
[TestFixture]
public sealed class CallbackTimeoutTests
{
    private const int CallbackTimeoutMs = 4000;
    private PluginFolder _plugins = null!;
    private FakeTimeProvider _time = null!;
    private LoopbackServer _server = null!;

    [SetUp]
    public async Task StartServer()
    {
        _plugins = new PluginFolder().CopyFrom(LoopbackServer.TestPluginsPath, "throwing");
        _time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var vhost = LoopbackServer.Vhost("stuck", "throwing-protocol");
        vhost.CallbackTimeoutMs = CallbackTimeoutMs;
        vhost.CloseTimeoutMs = 1000;
        _server = await LoopbackServer.StartAsync(_plugins.Path, _time, vhost);
    }

    [TearDown]
    public async Task StopServer()
    {
        var disposing = _server.DisposeAsync().AsTask();
        await Eventually.WaitUntilAsync(() => { _time.Advance(TimeSpan.FromMilliseconds(500)); return disposing.IsCompleted; });
        await disposing;
        _plugins.Dispose();
    }

    [TestCase("block")]
    [TestCase("hang")]
    public async Task StuckCallback_ClosesOnlyItsSessionWith1011_AfterTheTimeout_AndIsReported(string misbehaviour)
    {
        await using var victim = await WsClient.ConnectAsync(_server.WebSocketUri("stuck"), "throwing-protocol");
        await using var bystander = await WsClient.ConnectAsync(_server.WebSocketUri("stuck"), "throwing-protocol");
        await victim.SendTextAsync(misbehaviour);

        // Just short of the timeout (measured from when the callback began, which is not before now) nothing happens.
        _time.Advance(TimeSpan.FromMilliseconds(CallbackTimeoutMs - 1100));
        await bystander.SendTextAsync("before");
        Assert.That(await bystander.ReceiveTextAsync(), Is.EqualTo("before"));
        Assert.That(Timeouts(), Is.Zero);

        var closing = victim.ReceiveCloseAsync(TimeSpan.FromSeconds(20));
        await Eventually.WaitUntilAsync(() => { _time.Advance(TimeSpan.FromMilliseconds(500)); return closing.IsCompleted; }, TimeSpan.FromSeconds(20));
        var close = await closing;

        Assert.That(close.CloseStatus, Is.EqualTo(WebSocketCloseStatus.InternalServerError));
        Assert.That(close.CloseDescription, Is.EqualTo("plugin callback timed out"));
        Assert.That(Timeouts(), Is.EqualTo(1));
        var logged = _server.Logs.Entries.Single(e => e.EventId.Id == 305);
        Assert.That(logged.Message, Does.Contain("throwing").And.Contain("OnMessageAsync").And.Contain($"{CallbackTimeoutMs} ms").And.Contain("1011"));
        await bystander.SendTextAsync("after");
        Assert.That(await bystander.ReceiveTextAsync(), Is.EqualTo("after"));
    }

    [Test]
    public async Task VhostWithASessionStuckForever_IsStillDestroyed_AndSaysSo()
    {
        await using var victim = await WsClient.ConnectAsync(_server.WebSocketUri("stuck"), "throwing-protocol");
        await victim.SendTextAsync("hang");
        var closing = victim.ReceiveCloseAsync(TimeSpan.FromSeconds(20));
        await Eventually.WaitUntilAsync(() => { _time.Advance(TimeSpan.FromMilliseconds(500)); return closing.IsCompleted; }, TimeSpan.FromSeconds(20));

        var destroying = _server.Context.DestroyVhostAsync("stuck", CancellationToken.None);
        await Eventually.WaitUntilAsync(() => { _time.Advance(TimeSpan.FromMilliseconds(500)); return destroying.IsCompleted; }, TimeSpan.FromSeconds(20));

        Assert.That(await destroying, Is.True);
        Assert.That(_server.Context.VhostNames, Does.Not.Contain("stuck"));
        Assert.That(_server.Logs.Entries.Single(e => e.EventId.Id == 308).Message, Does.Contain("stuck").And.Contain("1 sessions"));
    }

    private long Timeouts()
        => _server.Context.Status.GetSnapshot().Vhosts.Single(v => v.Name == "stuck").Protocols.Single().CallbackTimeouts;
}
