using System.Net;
using System.Text.Json;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Integration.Tests;

[TestFixture]
public sealed class StatusTests
{
    private FakeTimeProvider _time = null!;
    private LoopbackServer _server = null!;

    [SetUp]
    public async Task StartServer()
    {
        _time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        _server = await LoopbackServer.StartAsync(
            LoopbackServer.BundledPluginsPath,
            _time,
            LoopbackServer.Vhost("status", "lws-status", "lws-server-status", "dumb-increment-protocol"));
    }

    [TearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task LwsStatus_IsPushedToEveryStatusClientOnConnectAndDisconnect_NewestFirst()
    {
        await using var first = await ConnectStatusAsync("first-agent/1.0");
        using (var alone = JsonDocument.Parse(await first.ReceiveTextAsync()))
        {
            AssertDocument(alone.RootElement, "first-agent/1.0");
        }

        var second = await ConnectStatusAsync(null);
        using (var both = JsonDocument.Parse(await first.ReceiveTextAsync()))
        using (var seenBySecond = JsonDocument.Parse(await second.ReceiveTextAsync()))
        {
            AssertDocument(both.RootElement, "unknown", "first-agent/1.0");
            AssertDocument(seenBySecond.RootElement, "unknown", "first-agent/1.0");
        }

        await second.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null);
        await second.DisposeAsync();
        using var afterLeave = JsonDocument.Parse(await first.ReceiveTextAsync());
        AssertDocument(afterLeave.RootElement, "first-agent/1.0");
    }

    [Test]
    public async Task ServerStatus_DescribesVhostsProtocolsAndPlugins_OnConnectAndEveryInterval()
    {
        await using var counter = await WsClient.ConnectAsync(_server.WebSocketUri("status"), "dumb-increment-protocol");
        await counter.ReceiveTextAsync();
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("status"), "lws-server-status");

        using var first = JsonDocument.Parse(await client.ReceiveTextAsync());
        var root = first.RootElement;
        Assert.That(root.GetProperty("hostname").GetString(), Is.EqualTo(Dns.GetHostName()));
        Assert.That(root.GetProperty("version").GetString(), Does.StartWith("LwsPlugins/"));
        var vhost = root.GetProperty("vhosts").EnumerateArray().Single();
        Assert.That(vhost.GetProperty("name").GetString(), Is.EqualTo("status"));
        Assert.That(vhost.GetProperty("sessions").GetInt32(), Is.EqualTo(2));
        var protocols = vhost.GetProperty("protocols").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.That(protocols["dumb-increment-protocol"].GetProperty("sessions").GetInt32(), Is.EqualTo(1));
        Assert.That(protocols["dumb-increment-protocol"].GetProperty("pluginId").GetString(), Is.EqualTo("dumb-increment"));
        Assert.That(protocols["lws-server-status"].GetProperty("generation").GetInt32(), Is.EqualTo(1));
        Assert.That(vhost.GetProperty("messagesOut").GetInt64(), Is.GreaterThan(0));
        var plugins = root.GetProperty("plugins").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToList();
        Assert.That(plugins, Is.SupersetOf(new[] { "dumb-increment", "mirror", "server-status" }));

        _time.Advance(TimeSpan.FromSeconds(5));
        using var next = JsonDocument.Parse(await client.ReceiveTextAsync());
        Assert.That(next.RootElement.GetProperty("uptimeSeconds").GetInt64(), Is.GreaterThanOrEqualTo(5));
    }

    [Test]
    public async Task ServerStatus_IsPushedOnChange_WithoutWaitingForTheInterval_AndCarriesProcessFigures()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("status"), "lws-server-status");
        using (var first = JsonDocument.Parse(await client.ReceiveTextAsync()))
        {
            var process = first.RootElement.GetProperty("process");
            Assert.That(process.GetProperty("workingSetBytes").GetInt64(), Is.GreaterThan(0));
            Assert.That(process.GetProperty("gcHeapBytes").GetInt64(), Is.GreaterThan(0));
            Assert.That(process.GetProperty("gcCollections").GetArrayLength(), Is.EqualTo(3));
            Assert.That(process.GetProperty("threads").GetInt32(), Is.GreaterThan(0));
            Assert.That(first.RootElement.GetProperty("vhosts")[0].GetProperty("sessions").GetInt32(), Is.EqualTo(1));
        }

        await using var counter = await WsClient.ConnectAsync(_server.WebSocketUri("status"), "dumb-increment-protocol");
        Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"), "the counter's session is open on the server");
        var next = client.ReceiveTextAsync();
        var advanced = TimeSpan.Zero;
        while (!next.IsCompleted && advanced < TimeSpan.FromMilliseconds(900))
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            advanced += TimeSpan.FromMilliseconds(100);
            await Task.WhenAny(next, Task.Delay(200));
        }

        Assert.That(next.IsCompleted, Is.True, "a change must be pushed before the 1 s interval");
        using var changed = JsonDocument.Parse(await next);
        Assert.That(changed.RootElement.GetProperty("vhosts")[0].GetProperty("sessions").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public async Task ServerStatus_ReportsMemoryPerSessionAndMessageRates_SoARegressionShowsInProduction()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("status"), "lws-server-status");
        using (var first = JsonDocument.Parse(await client.ReceiveTextAsync()))
        {
            var performance = first.RootElement.GetProperty("performance");
            Assert.That(performance.GetProperty("sessions").GetInt32(), Is.EqualTo(1));
            Assert.That(performance.GetProperty("memoryPerSessionBytes").GetInt64(), Is.GreaterThanOrEqualTo(0), "the baseline is taken when the context starts, with no session");
            Assert.That(performance.GetProperty("rateWindowSeconds").GetDouble(), Is.Zero, "no rate window has ended yet");
        }

        var counters = new List<WsClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var counter = await WsClient.ConnectAsync(_server.WebSocketUri("status"), "dumb-increment-protocol");
                counters.Add(counter);
                Assert.That(await counter.ReceiveTextAsync(), Is.EqualTo("0"));
            }

            // The counters tick every 50 ms of the fake clock: 3 sessions x 20 messages a second go out.
            JsonElement? measured = null;
            for (var documents = 0; documents < 60 && measured is null; documents++)
            {
                using var document = JsonDocument.Parse(await ReceiveWhileAdvancingAsync(client));
                var performance = document.RootElement.GetProperty("performance");
                if (performance.GetProperty("rateWindowSeconds").GetDouble() >= 1 && performance.GetProperty("sessions").GetInt32() == 4)
                {
                    measured = performance.Clone();
                }
            }

            Assert.That(measured, Is.Not.Null, "a document with a full rate window and the four sessions");
            var figures = measured!.Value;
            Assert.That(figures.GetProperty("messagesOutPerSecond").GetDouble(), Is.GreaterThan(0));
            Assert.That(figures.GetProperty("bytesOutPerSecond").GetDouble(), Is.GreaterThan(0));
            Assert.That(figures.GetProperty("messagesInPerSecond").GetDouble(), Is.Zero, "the clients sent nothing");
            Assert.That(figures.GetProperty("memoryPerSessionBytes").ValueKind, Is.EqualTo(JsonValueKind.Number));
            Assert.That(figures.GetProperty("managedBytesPerSession").ValueKind, Is.EqualTo(JsonValueKind.Number));
        }
        finally
        {
            foreach (var counter in counters)
            {
                await counter.DisposeAsync();
            }
        }
    }

    private async Task<string> ReceiveWhileAdvancingAsync(WsClient client)
    {
        var next = client.ReceiveTextAsync();
        for (var step = 0; step < 50 && !next.IsCompleted; step++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(next, Task.Delay(100));
        }

        return await next;
    }

    private async Task<WsClient> ConnectStatusAsync(string? userAgent)
        => await WsClient.ConnectAsync(
            _server.WebSocketUri("status"),
            o =>
            {
                if (userAgent is not null)
                {
                    o.SetRequestHeader("User-Agent", userAgent);
                }
            },
            "lws-status");

    private void AssertDocument(JsonElement root, params string[] userAgentsNewestFirst)
    {
        Assert.That(root.GetProperty("version").GetString(), Does.StartWith("LwsPlugins/"));
        Assert.That(root.GetProperty("wss_over_h2").GetString(), Is.EqualTo("0"));
        Assert.That(root.GetProperty("hostname").GetString(), Is.EqualTo(Dns.GetHostName()));
        Assert.That(root.GetProperty("wsi").GetString(), Is.EqualTo(userAgentsNewestFirst.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var conns = root.GetProperty("conns").EnumerateArray().ToList();
        Assert.That(conns.Select(c => c.GetProperty("ua").GetString()), Is.EqualTo(userAgentsNewestFirst));
        foreach (var conn in conns)
        {
            Assert.That(conn.GetProperty("peer").GetString(), Is.EqualTo("127.0.0.1"));
            Assert.That(conn.GetProperty("time").GetString(), Is.EqualTo(_time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }
}
