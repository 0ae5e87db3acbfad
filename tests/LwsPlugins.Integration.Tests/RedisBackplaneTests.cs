using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// Two real server processes sharing a real redis-server on loopback: mirror instances span both, and a lost Redis only
/// stops what crosses servers, until it is back.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisBackplaneTests
{
    private const string Mirror = "lws-mirror-protocol";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);
    private RedisServer _redis = null!;
    private readonly List<string> _files = [];

    [SetUp]
    public async Task StartRedis() => _redis = await RedisServer.StartAsync();

    [TearDown]
    public async Task StopRedis()
    {
        await _redis.DisposeAsync();
        foreach (var file in _files)
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task MirrorMessage_ReachesMembersOnBothServers_ExactlyOnce_InOrderPerSender()
    {
        const int each = 100;
        await using var serverA = await StartServerAsync();
        await using var serverB = await StartServerAsync();
        await using var a1 = await JoinAsync(serverA, "team");
        await using var a2 = await JoinAsync(serverA, "team");
        await using var b1 = await JoinAsync(serverB, "team");
        await using var b2 = await JoinAsync(serverB, "team");
        await WaitForBackplaneAsync(serverA, channels: 1);
        await WaitForBackplaneAsync(serverB, channels: 1);

        await Task.WhenAll(SendManyAsync(a1, "a1", each), SendManyAsync(b1, "b1", each));
        var received = await Task.WhenAll(new[] { a1, a2, b1, b2 }.Select(c => ReceiveMessagesAsync(c, 2 * each)));
        await a2.SendTextAsync("end");

        var clients = new[] { a1, a2, b1, b2 };
        for (var i = 0; i < clients.Length; i++)
        {
            foreach (var sender in new[] { "a1", "b1" })
            {
                Assert.That(
                    received[i].Where(m => m.StartsWith(sender + " ", StringComparison.Ordinal)),
                    Is.EqualTo(Enumerable.Range(0, each).Select(n => $"{sender} {n}")),
                    $"client {i}: every message of {sender} once, in order");
            }

            // Nothing is delivered twice late: the next message after the 200 is the marker.
            Assert.That(await NextMessageAsync(clients[i]), Is.EqualTo("end"), $"client {i}");
        }

        var statusA = await GetBackplaneAsync(serverA);
        Assert.That(statusA.GetProperty("kind").GetString(), Is.EqualTo("redis"));
        Assert.That(statusA.GetProperty("published").GetInt64(), Is.GreaterThanOrEqualTo(each + 1));
        Assert.That((await GetBackplaneAsync(serverB)).GetProperty("received").GetInt64(), Is.GreaterThanOrEqualTo(each + 1));
    }

    [Test]
    public async Task DifferentMirrorNames_StayIsolatedAcrossServers()
    {
        await using var serverA = await StartServerAsync();
        await using var serverB = await StartServerAsync();
        await using var redA = await JoinAsync(serverA, "red");
        await using var redB = await JoinAsync(serverB, "red");
        await using var blueB = await JoinAsync(serverB, "blue");
        await using var upperB = await JoinAsync(serverB, "Red");
        await using var defaultB = await JoinAsync(serverB, null);
        await WaitForBackplaneAsync(serverA, channels: 1);
        await WaitForBackplaneAsync(serverB, channels: 4);

        await redA.SendTextAsync("to-red");

        Assert.That(await NextMessageAsync(redB), Is.EqualTo("to-red"));
        foreach (var other in new[] { blueB, upperB, defaultB })
        {
            // Its own marker is the very next message it sees: the red message never reached it.
            await other.SendTextAsync("marker");
            Assert.That(await NextMessageAsync(other), Is.EqualTo("marker"));
        }
    }

    [Test]
    public async Task RedisStoppedMidStream_LocalDeliveryGoesOn_StatusShowsDown_AndWhatWasSentMeanwhileArrivesOnceInOrder()
    {
        await using var serverA = await StartServerAsync();
        await using var serverB = await StartServerAsync();
        await using var a1 = await JoinAsync(serverA, "outage");
        await using var a2 = await JoinAsync(serverA, "outage");
        await using var b1 = await JoinAsync(serverB, "outage");
        await WaitForBackplaneAsync(serverA, channels: 1);
        await WaitForBackplaneAsync(serverB, channels: 1);
        await a1.SendTextAsync("before");
        Assert.That(await NextMessageAsync(b1), Is.EqualTo("before"));

        await _redis.StopAsync();
        await WaitForBackplaneAsync(serverA, state: "down");
        for (var n = 0; n < 20; n++)
        {
            await a1.SendTextAsync($"during {n}");
        }

        Assert.That(await ReceiveMessagesAsync(a2, 20, skip: "before"), Is.EqualTo(Enumerable.Range(0, 20).Select(n => $"during {n}")), "local delivery went on");
        var down = await GetBackplaneAsync(serverA);
        Assert.That(down.GetProperty("state").GetString(), Is.EqualTo("down"));
        Assert.That(down.GetProperty("outbox").GetInt64(), Is.GreaterThanOrEqualTo(20), "what could not cross waits in the outbox");
        Assert.That(down.GetProperty("dropped").GetInt64(), Is.Zero);
        await serverA.WaitForOutputAsync("lost Redis");

        // Redis restarted without its data (no persistence): the outbox sends what it holds again, B skips what it saw.
        await _redis.RestartAsync();
        await WaitForBackplaneAsync(serverA, state: "connected", reconnects: 1);
        await WaitForBackplaneAsync(serverB, state: "connected", reconnects: 1);
        await serverA.WaitForOutputAsync("reconnected to Redis");
        await a1.SendTextAsync("after");

        Assert.That(
            await ReceiveMessagesAsync(b1, 21),
            Is.EqualTo(Enumerable.Range(0, 20).Select(n => $"during {n}").Append("after")),
            "what was published while Redis was away arrives once, in order, and nothing else (\"before\" not again)");
        Assert.That((await GetBackplaneAsync(serverB)).GetProperty("gaps").GetInt64(), Is.Zero);
    }

    [Test]
    public async Task RedisDownAtStart_FailsWithAClearError_OrServesLocallyAndConnectsLater()
    {
        await _redis.StopAsync();

        var (exitCode, output) = await ServerProcess.RunToExitAsync("--config", WriteConfig("fail"));
        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain($"backplane.redis: cannot connect to Redis at {_redis.ConnectionString}").And.Contain("localOnly"));
        Assert.That(output, Does.Not.Contain("abortConnect"), "no advice about the library's connection string");

        // The default: serve local members, one plain line, and connect once Redis is up.
        await using var server = await StartServerAsync(null);
        await WaitForBackplaneAsync(server, state: "down");
        await using var member = await JoinAsync(server, "alone");
        await member.SendTextAsync("local");
        Assert.That(await NextMessageAsync(member), Is.EqualTo("local"));

        await server.WaitForOutputAsync("is unreachable at start; serving local members only and connecting as soon as it is up");
        Assert.That(server.Output, Does.Not.Contain("abortConnect"));

        await _redis.RestartAsync();
        await WaitForBackplaneAsync(server, state: "connected", channels: 1);
    }

    [Test]
    public async Task RedisFailFastFlag_RedisUnreachable_ExitsNonZeroWithOnePlainLine_WithoutTheFlagServesLocally()
    {
        await _redis.StopAsync();

        var (exitCode, output) = await ServerProcess.RunToExitAsync("-p", "0", "--redis", _redis.ConnectionString, "--redis-fail-fast");

        Assert.That(exitCode, Is.EqualTo(2), output);
        var errors = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("lws-server: ", StringComparison.Ordinal)).ToList();
        Assert.That(errors, Has.Count.EqualTo(1), output);
        Assert.That(errors[0], Does.Contain($"cannot connect to Redis at {_redis.ConnectionString}"));
        Assert.That(output, Does.Not.Contain("abortConnect").And.Not.Contain("   at ").And.Not.Contain("Exception"), "no library advice, no stack trace");

        var (noRedisCode, noRedis) = await ServerProcess.RunToExitAsync("-p", "0", "--redis-fail-fast");
        Assert.That(noRedisCode, Is.EqualTo(2), noRedis);
        Assert.That(noRedis, Does.Contain("lws-server: --redis-fail-fast needs a Redis backplane"));

        // Without the flag the same command line serves local members and waits for Redis.
        await using var server = await ServerProcess.StartAsync("-p", "0", "--redis", _redis.ConnectionString);
        await using var member = await JoinAsync(server, "alone");
        await member.SendTextAsync("local");
        Assert.That(await NextMessageAsync(member), Is.EqualTo("local"));
        Assert.That((await GetBackplaneAsync(server)).GetProperty("state").GetString(), Is.EqualTo("down"));
    }

    [Test]
    public async Task BackplaneDown_ShowsInStatusReadinessAndMetrics_AtStartAndAfterAKill_AndUpWhenRedisIsBack()
    {
        await _redis.StopAsync();
        await using var server = await ServerProcess.StartAsync("--config", WriteConfig(onStartFailure: null, observed: true));
        using var http = new HttpClient { Timeout = WsClient.DefaultTimeout };
        var observed = new Observed(http, server);

        await observed.WaitForAsync(connected: false, "down at start");

        await _redis.RestartAsync();
        await observed.WaitForAsync(connected: true, "Redis up");

        await _redis.StopAsync();
        await observed.WaitForAsync(connected: false, "Redis killed");

        await _redis.RestartAsync();
        await observed.WaitForAsync(connected: true, "Redis back");
    }

    /// <summary>The three views of the backplane's state a server offers over HTTP: GET /status, /health/ready and /metrics.</summary>
    private sealed class Observed(HttpClient http, ServerProcess server)
    {
        private string _last = "";

        public async Task WaitForAsync(bool connected, string when)
        {
            try
            {
                await Eventually.WaitUntilAsync(() => MatchesAsync(connected), Within);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"{when}: the backplane did not show {(connected ? "connected" : "down")} in status, readiness and metrics within {Within}: {_last}\n{server.Output}");
            }
        }

        private async Task<bool> MatchesAsync(bool connected)
        {
            using var status = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://{server.EndPoint}/status")));
            var state = status.RootElement.GetProperty("backplane").GetProperty("state").GetString();
            using var ready = await http.GetAsync(new Uri($"http://{server.EndPoint}/health/ready"));
            var readiness = await ready.Content.ReadAsStringAsync();
            var metrics = await http.GetStringAsync(new Uri($"http://{server.EndPoint}/metrics"));
            var gauge = metrics.Split('\n').Where(l => l.StartsWith("lws_backplane_connected", StringComparison.Ordinal)).Select(l => l[(l.LastIndexOf(' ') + 1)..]).ToList();
            _last = $"status {state}, /health/ready {(int)ready.StatusCode} {readiness}, lws_backplane_connected [{string.Join(", ", gauge)}]";
            return connected
                ? state == "connected" && ready.StatusCode == System.Net.HttpStatusCode.OK && readiness == "Healthy" && gauge is ["1"]
                // Degraded, still 200: local members are served.
                : state == "down" && ready.StatusCode == System.Net.HttpStatusCode.OK && readiness == "Degraded" && gauge is ["0"];
        }
    }

    private async Task<ServerProcess> StartServerAsync(string? onStartFailure = "fail")
        => await ServerProcess.StartAsync("--config", WriteConfig(onStartFailure));

    private string WriteConfig(string? onStartFailure, bool observed = false)
    {
        var startFailure = onStartFailure is null ? "" : $", \"onStartFailure\": \"{onStartFailure}\"";
        var paths = observed ? ", \"healthPath\": \"/health\", \"metricsPath\": \"/metrics\", \"statusPath\": \"/status\"" : "";
        var path = Path.Combine(Path.GetTempPath(), $"lws-redis-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, $$"""
            {
              "backplane": { "redis": "{{_redis.ConnectionString}}", "connectTimeoutMs": 1000{{startFailure}} },
              "vhosts": [ { "name": "localhost", "address": "127.0.0.1", "port": 0,
                            "protocols": [ "lws-mirror-protocol", "lws-server-status" ]{{paths}} } ]
            }
            """);
        _files.Add(path);
        return path;
    }

    /// <summary>Connects to a mirror instance and proves it joined with its own echo (sync messages are skipped later).</summary>
    private static async Task<WsClient> JoinAsync(ServerProcess server, string? mirror)
    {
        var query = mirror is null ? "/" : "/?mirror=" + Uri.EscapeDataString(mirror);
        var client = await WsClient.ConnectAsync(new Uri($"ws://{server.EndPoint}{query}"), Mirror);
        var token = "sync " + Guid.NewGuid().ToString("N");
        await client.SendTextAsync(token);
        await ReceiveUntilAsync(client, token);
        return client;
    }

    private static async Task SendManyAsync(WsClient client, string sender, int count)
    {
        for (var n = 0; n < count; n++)
        {
            await client.SendTextAsync($"{sender} {n}");
        }
    }

    /// <summary>The next message that is not another client's join sync.</summary>
    private static async Task<string> NextMessageAsync(WsClient client)
    {
        while (true)
        {
            var text = await client.ReceiveTextAsync(Within);
            if (!text.StartsWith("sync ", StringComparison.Ordinal))
            {
                return text;
            }
        }
    }

    private static async Task<List<string>> ReceiveMessagesAsync(WsClient client, int count, string? skip = null)
    {
        var messages = new List<string>(count);
        while (messages.Count < count)
        {
            var text = await NextMessageAsync(client);
            if (text != skip)
            {
                messages.Add(text);
            }
        }

        return messages;
    }

    private static async Task<string> ReceiveUntilAsync(WsClient client, string expected)
    {
        while (true)
        {
            var text = await client.ReceiveTextAsync(Within);
            if (text == expected)
            {
                return text;
            }
        }
    }

    private static async Task<JsonElement> GetBackplaneAsync(ServerProcess server)
    {
        await using var status = await WsClient.ConnectAsync(new Uri($"ws://{server.EndPoint}/"), "lws-server-status");
        using var document = JsonDocument.Parse(await status.ReceiveTextAsync());
        return document.RootElement.GetProperty("backplane").Clone();
    }

    private static async Task WaitForBackplaneAsync(ServerProcess server, string state = "connected", int? channels = null, long? reconnects = null)
    {
        var deadline = DateTime.UtcNow + Within;
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await GetBackplaneAsync(server);
            if (last.GetProperty("state").GetString() == state
                && (channels is null || last.GetProperty("channels").GetInt32() == channels)
                && (reconnects is null || last.GetProperty("reconnects").GetInt64() >= reconnects))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
            $"backplane not {state} (channels {channels}, reconnects {reconnects}) within {Within}: {last}\n{server.Output}"));
    }
}
