using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>Vhosts created and destroyed while the server runs: two-phase destroy, shared listeners, hand-over.</summary>
[TestFixture]
public sealed class VhostLifecycleTests
{
    private PluginFolder _plugins = null!;

    [OneTimeSetUp]
    public void ComposePlugins()
        => _plugins = new PluginFolder()
            .CopyFrom(LoopbackServer.BundledPluginsPath, "dumb-increment")
            .CopyFrom(LoopbackServer.TestPluginsPath, "lifecycle");

    [OneTimeTearDown]
    public void RemovePlugins() => _plugins.Dispose();

    [Test]
    public async Task DestroyingOwnerVhost_HandsListenerToSibling_AndNothingElseNotices()
    {
        await using var server = await StartAsync(TimeProvider.System, destroyDelayMs: 200);
        var port = await CreateAsync(server, "owner", 0, "dumb-increment-protocol", "lifecycle-protocol");
        await CreateAsync(server, "sibling", port, "dumb-increment-protocol");
        var uri = new Uri($"ws://127.0.0.1:{port}/");

        await using var siblingStream = await WsClient.ConnectAsync(uri, o => o.SetRequestHeader("Host", "sibling"), "dumb-increment-protocol");
        await using var ownerCounter = await WsClient.ConnectAsync(uri, o => o.SetRequestHeader("Host", "owner"), "dumb-increment-protocol");
        await using var ownerEcho = await WsClient.ConnectAsync(uri, o => o.SetRequestHeader("Host", "owner"), "lifecycle-protocol");
        Assert.That(await siblingStream.ReceiveTextAsync(), Is.EqualTo("0"));

        using var stopLoop = new CancellationTokenSource();
        var connectLoop = ConnectRepeatedlyAsync(uri, stopLoop.Token);
        var stream = ReadCounterAsync(siblingStream, until: stopLoop.Token);

        await connectLoop.Progress(10);
        Assert.That(await server.Context.DestroyVhostAsync("owner", CancellationToken.None), Is.True);
        var ownerCounterClose = await ownerCounter.ReceiveCloseAsync();
        var ownerEchoClose = await ownerEcho.ReceiveCloseAsync();
        await connectLoop.Progress(20);
        stopLoop.Cancel();
        var (attempts, failures) = await connectLoop.Task;
        var values = await stream;

        Assert.That(ownerCounterClose.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        Assert.That(ownerEchoClose.CloseStatus, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        Assert.That(failures, Is.Empty, $"{failures.Count} of {attempts} connections failed");
        Assert.That(attempts, Is.GreaterThanOrEqualTo(30));
        Assert.That(values, Is.EqualTo(Enumerable.Range(1, values.Count)), "the sibling's stream must have no gap");
        Assert.That(server.Context.VhostNames, Is.EqualTo(new[] { "sibling" }));
        Assert.That(server.Context.GetDiagnostics().Listeners, Is.EqualTo(1));
        Assert.That(server.Logs.Entries.Count(e => e.Message == "disposed owner"), Is.EqualTo(1));
        Assert.That(server.Logs.Entries.Any(e => e.EventId.Id == 207 && e.Message.Contains("to vhost sibling", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task PartTwo_RunsOnlyAfterTheDelay_AndFreesThePortOfTheLastVhost()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = await StartAsync(time, destroyDelayMs: 5000);
        var port = await CreateAsync(server, "only", 0, "lifecycle-protocol");

        await server.Context.DestroyVhostAsync("only", CancellationToken.None);

        Assert.That(server.Context.VhostNames, Is.Empty, "unlisted at once");
        Assert.That(server.Logs.Entries.Count(e => e.Message == "disposed only"), Is.EqualTo(1), "protocol instances disposed in part 1");
        Assert.That(server.Context.GetDiagnostics(), Is.EqualTo(new ContextDiagnostics(Listeners: 1, Vhosts: 0, Destroying: 1, Sessions: 0, ProtocolInstances: 0)));
        Assert.That(server.Context.Status.GetSnapshot().Vhosts.Single().State, Is.EqualTo("destroying"));

        time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.That(server.Context.GetDiagnostics().Destroying, Is.EqualTo(1), "part 2 must wait for the whole delay");

        time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.WaitUntilAsync(() => server.Context.GetDiagnostics() == default);

        using var rebind = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.That(() => rebind.Bind(new IPEndPoint(IPAddress.Loopback, port)), Throws.Nothing, "the port is free again");
        Assert.That(server.Logs.Entries.Count(e => e.Message == "disposed only"), Is.EqualTo(1), "disposed exactly once");
    }

    [Test]
    public async Task RecreatingTheSameNameAndPort_DuringTheDeferredPart_Serves()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = await StartAsync(time, destroyDelayMs: 5000);
        var port = await CreateAsync(server, "again", 0, "lifecycle-protocol");
        await server.Context.DestroyVhostAsync("again", CancellationToken.None);

        Assert.That(await CreateAsync(server, "again", port, "lifecycle-protocol"), Is.EqualTo(port));
        time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.WaitUntilAsync(() => server.Context.GetDiagnostics().Destroying == 0);

        await using var client = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), "lifecycle-protocol");
        await client.SendTextAsync("still serving");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("still serving"));
        Assert.That(server.Context.GetDiagnostics().Listeners, Is.EqualTo(1));
    }

    [Test]
    public async Task ThousandCreateDestroyCycles_WhileASiblingStreams_LeaveNoGapAndNoLeak()
    {
        await using var server = await StartAsync(TimeProvider.System, destroyDelayMs: 0);
        var port = await CreateAsync(server, "sibling", 0, "dumb-increment-protocol");
        await using var stream = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), "dumb-increment-protocol");
        Assert.That(await stream.ReceiveTextAsync(), Is.EqualTo("0"));
        var baseline = server.Context.GetDiagnostics();

        using var stop = new CancellationTokenSource();
        var values = ReadCounterAsync(stream, until: stop.Token);
        for (var i = 0; i < 1000; i++)
        {
            var name = "churn" + (i % 7).ToString(CultureInfo.InvariantCulture);
            await CreateAsync(server, name, port, "lifecycle-protocol", "dumb-increment-protocol");
            await server.Context.DestroyVhostAsync(name, CancellationToken.None);
        }

        stop.Cancel();
        var received = await values;
        await Eventually.WaitUntilAsync(() => server.Context.GetDiagnostics().Destroying == 0);

        Assert.That(received, Is.EqualTo(Enumerable.Range(1, received.Count)), "the sibling's stream must have no gap");
        Assert.That(server.Context.GetDiagnostics(), Is.EqualTo(baseline));
        Assert.That(server.Logs.Entries.Count(e => e.Category == "Lifecycle" && e.Message.StartsWith("created", StringComparison.Ordinal)), Is.EqualTo(1000));
        Assert.That(server.Logs.Entries.Count(e => e.Category == "Lifecycle" && e.Message.StartsWith("disposed", StringComparison.Ordinal)), Is.EqualTo(1000));
    }

    private async Task<LoopbackServer> StartAsync(TimeProvider time, int destroyDelayMs)
        => await LoopbackServer.StartAsync(new LwsServerOptions { PluginsPath = _plugins.Path, DestroyDelayMs = destroyDelayMs }, time);

    private static async Task<int> CreateAsync(LoopbackServer server, string name, int port, params string[] protocols)
    {
        var vhost = LoopbackServer.Vhost(name, protocols);
        vhost.Port = port;
        return (await server.Context.CreateVhostAsync(vhost, CancellationToken.None)).Port;
    }

    /// <summary>Reads counter values until cancelled; any error or close ends the read and fails the caller's assertions.</summary>
    private static async Task<List<int>> ReadCounterAsync(WsClient client, CancellationToken until)
    {
        var values = new List<int>();
        while (!until.IsCancellationRequested)
        {
            values.Add(int.Parse(await client.ReceiveTextAsync(), CultureInfo.InvariantCulture));
        }

        return values;
    }

    private static ConnectLoop ConnectRepeatedlyAsync(Uri uri, CancellationToken stop) => new(uri, stop);

    /// <summary>Opens, uses and closes sessions back to back (bounded by the stop token) and records every failure.</summary>
    private sealed class ConnectLoop
    {
        private int _attempts;

        public ConnectLoop(Uri uri, CancellationToken stop)
        {
            Task = RunAsync(uri, stop);
        }

        public Task<(int Attempts, List<string> Failures)> Task { get; }

        /// <summary>Waits until the loop has made <paramref name="more"/> further attempts.</summary>
        public async Task Progress(int more)
        {
            var target = Volatile.Read(ref _attempts) + more;
            while (Volatile.Read(ref _attempts) < target)
            {
                await System.Threading.Tasks.Task.Delay(5);
                if (Task.IsCompleted)
                {
                    return;
                }
            }
        }

        private async Task<(int, List<string>)> RunAsync(Uri uri, CancellationToken stop)
        {
            await System.Threading.Tasks.Task.Yield();
            var failures = new List<string>();
            for (var i = 0; i < 5000 && !stop.IsCancellationRequested; i++)
            {
                try
                {
                    await using var client = await WsClient.ConnectAsync(uri, o => o.SetRequestHeader("Host", "owner"), "dumb-increment-protocol");
                    if (await client.ReceiveTextAsync() != "0")
                    {
                        failures.Add("first value was not 0");
                    }

                    await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or InvalidOperationException)
                {
                    failures.Add(ex.Message);
                }

                Interlocked.Increment(ref _attempts);
            }

            return (Volatile.Read(ref _attempts), failures);
        }
    }
}
