using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Sdk;
using LwsPlugins.Tests.Common;
using StackExchange.Redis;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// Two servers (two contexts) on one real redis-server that the tests kill and restart without persistence, five members
/// of one mirror instance on each and a sender on each at 100 messages/s: what each member gets of each sender is checked
/// whole (nothing lost, nothing twice, nothing out of order), or, past the outbox's bounds, a whole prefix and then a 1012.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisBackplaneRecoveryTests
{
    private const string Protocol = "lws-mirror-protocol";
    private const string Vhost = "span";
    private const int MembersPerServer = 5;
    private static readonly TimeSpan SendInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);
    private RedisServer _redis = null!;

    [SetUp]
    public async Task StartRedis() => _redis = await RedisServer.StartAsync();

    [TearDown]
    public async Task StopRedis() => await _redis.DisposeAsync();

    [Test]
    [CancelAfter(60_000)]
    public async Task RedisDownFor5s_AndRestartedWithoutItsData_EveryMemberGetsEverySendersMessagesOnceInOrder()
    {
        await using var a = await StartServerAsync();
        await using var b = await StartServerAsync();
        await using var group = await Group.JoinAsync(a, b, "g", MembersPerServer);
        using var senders = group.StartSenders();

        await Task.Delay(TimeSpan.FromSeconds(1));
        await _redis.StopAsync();
        await WaitForStateAsync("down", a, b);
        await Task.Delay(TimeSpan.FromSeconds(5));
        await _redis.RestartAsync();
        await WaitForStateAsync("connected", a, b);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var sent = await senders.StopAsync();

        await group.WaitForAllAsync(sent);
        group.AssertEveryStreamWhole(sent);
        Assert.That(sent.Values, Has.All.GreaterThan(500), "the senders kept going through the outage");
        foreach (var server in new[] { a, b })
        {
            var status = server.Context.Status.GetSnapshot().Backplane!;
            Assert.That((status.Dropped, status.Gaps, status.LostReports), Is.EqualTo((0L, 0L, 0L)));
        }

        Assert.That(a.Logs.Entries.Any(e => e.EventId.Id == 810), Is.True, "the restart without data was seen (run id)");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task OneServersConnectionsKilledFor3s_EveryMemberGetsEverySendersMessagesOnceInOrder()
    {
        await using var a = await StartServerAsync();
        await using var b = await StartServerAsync();
        await using var group = await Group.JoinAsync(a, b, "g", MembersPerServer);
        await using var admin = await ConnectionMultiplexer.ConnectAsync($"{_redis.ConnectionString},allowAdmin=true");
        var database = admin.GetDatabase();
        var name = $"-{a.Context.Backplane.Origin:N}";
        using var senders = group.StartSenders();

        await Task.Delay(TimeSpan.FromSeconds(1));
        var killed = 0;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < until)
        {
            // Both of A's connections (commands and the blocking reads), by name, again as soon as they are back.
            var clients = ((string?)await database.ExecuteAsync("CLIENT", "LIST") ?? "").Split('\n');
            foreach (var line in clients.Where(l => l.Contains(name, StringComparison.Ordinal)))
            {
                // RESP3 gives CLIENT LIST as a verbatim string ("txt:" first): find the field, not the line's start.
                var id = System.Text.RegularExpressions.Regex.Match(line, @"(?:^|[ :])id=(\d+)").Groups[1].Value;
                killed += (int)await database.ExecuteAsync("CLIENT", "KILL", "ID", id);
            }

            await Task.Delay(50);
        }

        await WaitForStateAsync("connected", a);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var sent = await senders.StopAsync();

        await group.WaitForAllAsync(sent);
        group.AssertEveryStreamWhole(sent);
        Assert.That(killed, Is.GreaterThanOrEqualTo(4), "A's connections were killed, and again once back");
        Assert.That(a.Context.Status.GetSnapshot().Backplane!.Reconnects, Is.GreaterThanOrEqualTo(1));
        foreach (var server in new[] { a, b })
        {
            var status = server.Context.Status.GetSnapshot().Backplane!;
            Assert.That((status.Dropped, status.Gaps, status.LostReports), Is.EqualTo((0L, 0L, 0L)));
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task RedisDownLongerThanTheOutboxHolds_ClosesExactlyTheGroupThatLostMessagesWith1012_AfterAWholePrefix()
    {
        // The outbox holds 1 s: a 3 s outage (and a Redis restarted without its data) loses 2 s of each sender's messages.
        await using var a = await StartServerAsync(o => o.OutboxMaxAgeMs = 1000);
        await using var b = await StartServerAsync(o => o.OutboxMaxAgeMs = 1000);
        await using var group = await Group.JoinAsync(a, b, "g", MembersPerServer);
        await using var calm = await Group.JoinAsync(a, b, "calm", 2);
        using var senders = group.StartSenders();

        await Task.Delay(TimeSpan.FromSeconds(1));
        await _redis.StopAsync();
        await WaitForStateAsync("down", a, b);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await _redis.RestartAsync();
        await WaitForStateAsync("connected", a, b);
        await group.WaitForEveryCloseAsync(Within);
        var sent = await senders.StopAsync();

        foreach (var member in group.Members)
        {
            Assert.That(member.Close, Is.EqualTo(((WebSocketCloseStatus?)SessionGroup.BackplaneGapStatus, (string?)SessionGroup.BackplaneGapReason)), member.Name);
        }

        group.AssertEveryStreamAWholePrefix(sent);
        foreach (var server in new[] { a, b })
        {
            var status = server.Context.Status.GetSnapshot().Backplane!;
            Assert.That(status.Dropped, Is.GreaterThan(0), "what the outbox could not hold is counted");
            Assert.That(status.LostReports, Is.GreaterThanOrEqualTo(1));
            Assert.That(server.Logs.Entries.Any(e => e.EventId.Id == 809), Is.True, "and logged");
        }

        // The group that lost nothing is left alone, and still spans the servers.
        Assert.That(calm.Members.Select(m => m.Close), Has.All.EqualTo(((WebSocketCloseStatus?)null, (string?)null)));
        await calm.Members[0].Client.SendTextAsync("calm after");
        await Eventually.WaitUntilAsync(() => calm.Members.All(m => m.Texts.Contains("calm after")), Within);
    }

    private async Task<LoopbackServer> StartServerAsync(Action<BackplaneOptions>? configure = null)
    {
        var backplane = new BackplaneOptions { Redis = _redis.ConnectionString, ConnectTimeoutMs = 1000 };
        configure?.Invoke(backplane);
        var server = await LoopbackServer.StartAsync(
            new LwsServerOptions
            {
                PluginsPath = LoopbackServer.BundledPluginsPath,
                WatchPlugins = false,
                Backplane = backplane,
                Vhosts = [LoopbackServer.Vhost(Vhost, Protocol)],
            },
            TimeProvider.System);
        await WaitForStateAsync("connected", server);
        return server;
    }

    private static async Task WaitForStateAsync(string state, params LoopbackServer[] servers)
    {
        foreach (var server in servers)
        {
            await Eventually.WaitUntilAsync(() => server.Context.Status.GetSnapshot().Backplane?.State == state, Within);
        }
    }

    /// <summary>One mirror instance's members on both servers, each read all the time by its own loop.</summary>
    private sealed class Group : IAsyncDisposable
    {
        private readonly LoopbackServer[] _servers;

        private Group(List<Member> members, string name, LoopbackServer[] servers)
        {
            Members = members;
            Name = name;
            _servers = servers;
        }

        public List<Member> Members { get; }

        public string Name { get; }

        public static async Task<Group> JoinAsync(LoopbackServer a, LoopbackServer b, string name, int perServer)
        {
            var members = new List<Member>();
            foreach (var (server, tag) in new[] { (a, "A"), (b, "B") })
            {
                for (var i = 0; i < perServer; i++)
                {
                    members.Add(await Member.JoinAsync(server, name, $"{tag}{i}"));
                }
            }

            await Eventually.WaitUntilAsync(
                () => new[] { a, b }.All(s => s.Context.Status.GetSnapshot().Backplane!.Channels >= 1), Within);

            // A marker each way across Redis: every member is joined on both sides before anything is counted.
            var group = new Group(members, name, [a, b]);
            foreach (var from in new[] { members[0], members[perServer] })
            {
                var marker = $"marker {from.Name}";
                await from.Client.SendTextAsync(marker);
                await Eventually.WaitUntilAsync(() => members.All(m => m.Texts.Contains(marker)), Within);
            }

            return group;
        }

        /// <summary>The first member on each server sends <c>"{name} {n}"</c> every 10 ms (a steady 100 messages/s).</summary>
        public Senders StartSenders() => new([Members[0], Members[Members.Count / 2]]);

        public async Task WaitForAllAsync(IReadOnlyDictionary<string, int> sent)
        {
            try
            {
                await Eventually.WaitUntilAsync(() => Members.All(m => sent.All(s => m.Count(s.Key) >= s.Value)), Within);
            }
            catch (TimeoutException)
            {
                Assert.Fail(string.Join("; ", Members.Select(m => $"{m.Name}: " + string.Join(", ", sent.Select(s => $"{s.Key} {m.Count(s.Key)}/{s.Value}"))))
                    + "\n" + string.Join("\n", _servers.Select(Describe)));
            }
        }

        private static string Describe(LoopbackServer server)
        {
            var status = server.Context.Status.GetSnapshot().Backplane!;
            var logs = server.Logs.Entries.Where(e => e.EventId.Id is >= 300 and < 400 or >= 800 and < 900).Select(e => $"{e.EventId.Id} {e.Message}");
            return System.Text.Json.JsonSerializer.Serialize(status) + "\n  " + string.Join("\n  ", logs.TakeLast(40));
        }

        public async Task WaitForEveryCloseAsync(TimeSpan within)
            => await Eventually.WaitUntilAsync(() => Members.All(m => m.Ended), within);

        public void AssertEveryStreamWhole(IReadOnlyDictionary<string, int> sent)
        {
            foreach (var member in Members)
            {
                Assert.That(member.Close, Is.EqualTo(((WebSocketCloseStatus?)null, (string?)null)), $"{member.Name} was not closed");
                foreach (var (sender, count) in sent)
                {
                    Assert.That(member.Stream(sender), Is.EqualTo(Enumerable.Range(0, count)), $"{member.Name}: {sender}'s messages, each once, in order");
                }
            }
        }

        public void AssertEveryStreamAWholePrefix(IReadOnlyDictionary<string, int> sent)
        {
            foreach (var member in Members)
            {
                foreach (var (sender, count) in sent)
                {
                    var stream = member.Stream(sender);
                    Assert.That(stream, Is.EqualTo(Enumerable.Range(0, stream.Count)), $"{member.Name}: {sender}'s messages up to its close, none missing, none twice");
                    Assert.That(stream.Count, Is.LessThanOrEqualTo(count));
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var member in Members)
            {
                await member.DisposeAsync();
            }
        }
    }

    private sealed class Senders : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<(Member Member, Task<int> Loop)> _loops;

        public Senders(IEnumerable<Member> members)
            => _loops = [.. members.Select(m => (m, Task.Run(() => SendAsync(m, _stop.Token))))];

        /// <summary>Stops them; how many messages each sent (a sender whose connection was closed stops there).</summary>
        public async Task<IReadOnlyDictionary<string, int>> StopAsync()
        {
            await _stop.CancelAsync();
            var sent = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (member, loop) in _loops)
            {
                sent[member.Name] = await loop;
            }

            return sent;
        }

        public void Dispose() => _stop.Dispose();

        private static async Task<int> SendAsync(Member member, CancellationToken stop)
        {
            var start = DateTime.UtcNow;
            var n = 0;
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await member.Client.SendTextAsync(string.Create(CultureInfo.InvariantCulture, $"{member.Name} {n}"));
                    n++;
                    var next = start + (SendInterval * n);
                    var wait = next - DateTime.UtcNow;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, stop);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
            {
                // Stopped, or closed by the server (a gap): n messages went out.
            }

            return n;
        }
    }

    private sealed class Member : IAsyncDisposable
    {
        private readonly ConcurrentQueue<string> _texts = new();
        private readonly Task _reader;
        private volatile bool _ended;

        private Member(WsClient client, string name)
        {
            Client = client;
            Name = name;
            _reader = Task.Run(ReadAsync);
        }

        public WsClient Client { get; }

        public string Name { get; }

        public IReadOnlyCollection<string> Texts => _texts;

        public bool Ended => _ended;

        public (WebSocketCloseStatus? Status, string? Reason) Close { get; private set; }

        public static async Task<Member> JoinAsync(LoopbackServer server, string group, string name)
        {
            var client = await WsClient.ConnectAsync(server.WebSocketUri(Vhost, "/?mirror=" + group), Protocol);
            var member = new Member(client, name);
            var hello = $"hello {name}";
            await client.SendTextAsync(hello);
            await Eventually.WaitUntilAsync(() => member.Texts.Contains(hello), Within);
            return member;
        }

        public int Count(string sender) => _texts.Count(t => t.StartsWith(sender + " ", StringComparison.Ordinal) && !t.StartsWith("hello", StringComparison.Ordinal));

        /// <summary>The numbers of <paramref name="sender"/>'s messages, in the order they came.</summary>
        public List<int> Stream(string sender)
            => [.. _texts.Where(t => t.StartsWith(sender + " ", StringComparison.Ordinal)).Select(t => int.Parse(t[(sender.Length + 1)..], CultureInfo.InvariantCulture))];

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await _reader.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private async Task ReadAsync()
        {
            try
            {
                while (true)
                {
                    var received = await Client.ReceiveAsync(TimeSpan.FromMinutes(2));
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        Close = (received.CloseStatus, received.CloseDescription);
                        await Client.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        return;
                    }

                    _texts.Enqueue(received.Text);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                // Disposed at the end of the test.
            }
            finally
            {
                _ended = true;
            }
        }
    }
}
