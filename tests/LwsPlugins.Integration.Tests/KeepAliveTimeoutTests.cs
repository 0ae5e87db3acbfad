using System.Net.Sockets;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// A vhost's own bound on idle HTTP/1.1 keep-alive connections (<c>keepAliveTimeoutMs</c>; lws: <c>keepalive-timeout</c>),
/// on real loopback connections with the engine's clock faked. Kestrel's own bound (handshakeTimeoutMs) is set far
/// beyond the test, so a close seen here is the vhost's.
/// </summary>
[TestFixture]
public sealed class KeepAliveTimeoutTests
{
    private const int HandshakeTimeoutMs = 60_000;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);
    private string _folder = null!;

    [SetUp]
    public void CreateFolder()
    {
        _folder = Directory.CreateTempSubdirectory("lws-keepalive-").FullName;
        File.WriteAllText(Path.Combine(_folder, "index.html"), "<p>kept</p>");
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task IdleConnection_IsClosedAfterItsVhostsKeepAliveTimeout_WhileOneOnAVhostWithoutItStaysOpen()
    {
        await using var server = await StartAsync(Vhost("short.test", keepAliveTimeoutMs: 2000), Vhost("plain.test", keepAliveTimeoutMs: 0));
        using var timed = await ConnectAsync(server, "short.test");
        using var untimed = await ConnectAsync(server, "plain.test");
        Assert.That(await GetAsync(timed, "short.test"), Does.StartWith("HTTP/1.1 200"));
        Assert.That(await GetAsync(untimed, "plain.test"), Does.StartWith("HTTP/1.1 200"));
        await WaitForLoggedAsync("short.test", 1);
        await WaitForLoggedAsync("plain.test", 1);

        _time.Advance(TimeSpan.FromMilliseconds(2001));

        Assert.That(await ReadToCloseAsync(timed), Is.Zero, "the server closed the idle connection (FIN)");
        var again = await GetAsync(untimed, "plain.test");
        Assert.That(again, Does.StartWith("HTTP/1.1 200").And.Not.Contain("Connection: close"), "a vhost without the option leaves its connections to the server-wide bound");
    }

    [Test]
    public async Task RequestBeforeExpiry_KeepsTheConnectionOpen_AndTheNextResponseStartsTheIdleTimeAgain()
    {
        await using var server = await StartAsync(Vhost("short.test", keepAliveTimeoutMs: 2000));
        using var connection = await ConnectAsync(server, "short.test");
        for (var request = 1; request <= 3; request++)
        {
            var answer = await GetAsync(connection, "short.test");
            Assert.That(answer, Does.StartWith("HTTP/1.1 200").And.Not.Contain("Connection: close"), $"request {request}");
            await WaitForLoggedAsync("short.test", request);

            // 1.5 s idle after each response: 3 s after the first one in all, longer than the timeout, yet never idle that long.
            _time.Advance(TimeSpan.FromMilliseconds(1500));
        }

        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.That(await ReadToCloseAsync(connection), Is.Zero);
    }

    [Test]
    public async Task WebSocketUpgradeOnAKeptAliveConnection_IsNotClosedByTheTimerItsPreviousResponseArmed()
    {
        var vhost = Vhost("short.test", keepAliveTimeoutMs: 2000);
        vhost.Protocols = [new ProtocolSelection("lws-mirror-protocol")];
        await using var server = await StartAsync(vhost);
        using var connection = await ConnectAsync(server, "short.test");
        Assert.That(await GetAsync(connection, "short.test"), Does.StartWith("HTTP/1.1 200"));
        await WaitForLoggedAsync("short.test", 1);

        // The second request on the connection goes through Kestrel (the fast path looks at first requests only).
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var upgrade = await SendAsync(
            connection,
            $"GET /?mirror=k HTTP/1.1\r\nHost: short.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n");
        Assert.That(upgrade, Does.StartWith("HTTP/1.1 101"));
        _time.Advance(TimeSpan.FromMilliseconds(2001));

        await connection.WriteAsync(RawWebSocket.Frame(0x81, Encoding.UTF8.GetBytes("c #000000 1 2 3;")));
        var echo = new byte[2 + 16];
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        await connection.ReadExactlyAsync(echo, timeout.Token);
        Assert.That(Encoding.UTF8.GetString(echo, 2, 16), Is.EqualTo("c #000000 1 2 3;"), "the session runs past the keep-alive timeout");
    }

    [Test]
    public async Task RequestStillBeingServed_PastTheTimeoutItsPreviousResponseArmed_KeepsItsConnection()
    {
        using var plugins = new PluginFolder().CopyFrom(LoopbackServer.TestPluginsPath, "http-callback");
        var vhost = Vhost("slow.test", keepAliveTimeoutMs: 2000);
        vhost.Protocols = [new ProtocolSelection("http-callback-protocol")];
        vhost.Mounts = [.. vhost.Mounts, new MountOptions { MountPoint = "/api", Origin = "callback://http-callback-protocol" }];
        await using var server = await StartAsync(plugins.Path, vhost);
        using var connection = await ConnectAsync(server, "slow.test");
        Assert.That(await GetAsync(connection, "slow.test"), Does.StartWith("HTTP/1.1 200"));
        await WaitForLoggedAsync("slow.test", 1);

        // Kestrel sends 100 Continue when the handler reads the body: the request has reached the vhost by then.
        Assert.That(
            await SendAsync(connection, "POST /api/echo HTTP/1.1\r\nHost: slow.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
            Does.StartWith("HTTP/1.1 100"));
        _time.Advance(TimeSpan.FromMilliseconds(2001));
        var answer = await SendAsync(connection, "hello");

        Assert.That(answer, Does.StartWith("HTTP/1.1 200").And.Not.Contain("Connection: close"), "the request disarmed the idle timer");
        Assert.That(await GetAsync(connection, "slow.test"), Does.StartWith("HTTP/1.1 200").And.Not.Contain("Connection: close"));
    }

    [Test]
    public async Task ChangedLive_TheNewTimeoutAppliesFromTheNextResponse()
    {
        await using var server = await StartAsync(Vhost("live.test", keepAliveTimeoutMs: 0));
        using var connection = await ConnectAsync(server, "live.test");
        Assert.That(await GetAsync(connection, "live.test"), Does.StartWith("HTTP/1.1 200"));
        await WaitForLoggedAsync("live.test", 1);

        var changed = Vhost("live.test", keepAliveTimeoutMs: 1000);
        var result = await server.Context.ApplyAsync(VhostSources.Api, [changed], VhostApplyMode.Upsert, CancellationToken.None);
        Assert.That(result.Outcomes.Single().Action, Is.EqualTo(VhostApplyAction.Updated), result.Outcomes.Single().Error);
        _time.Advance(TimeSpan.FromMilliseconds(1001));
        Assert.That(await GetAsync(connection, "live.test"), Does.StartWith("HTTP/1.1 200"), "the response before the change armed nothing");
        await WaitForLoggedAsync("live.test", 2);

        _time.Advance(TimeSpan.FromMilliseconds(1001));
        Assert.That(await ReadToCloseAsync(connection), Is.Zero);
    }

    [Test]
    public async Task KeepAliveTimeoutLongerThanHandshakeTimeout_IsRefusedNamingTheVhostAndTheKey()
    {
        await using var server = await StartAsync();

        var refused = Assert.ThrowsAsync<LwsConfigurationException>(() => server.Context.CreateVhostAsync(Vhost("long.test", HandshakeTimeoutMs + 1), CancellationToken.None));

        Assert.That(refused!.Message, Does.Contain(
            $"vhost 'long.test': keepAliveTimeoutMs: {HandshakeTimeoutMs + 1} is longer than the server's handshakeTimeoutMs ({HandshakeTimeoutMs}), which closes every idle connection first"));
    }

    private Task<LoopbackServer> StartAsync(params VhostOptions[] vhosts) => StartAsync(LoopbackServer.BundledPluginsPath, vhosts);

    private Task<LoopbackServer> StartAsync(string plugins, params VhostOptions[] vhosts)
        => LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = plugins, DestroyDelayMs = 0, WatchPlugins = false, HandshakeTimeoutMs = HandshakeTimeoutMs, Vhosts = vhosts },
            _time);

    private VhostOptions Vhost(string name, int keepAliveTimeoutMs)
    {
        var vhost = LoopbackServer.Vhost(name);
        vhost.KeepAliveTimeoutMs = keepAliveTimeoutMs;
        vhost.Mounts = [new MountOptions { MountPoint = "/", Origin = _folder }];
        vhost.AccessLog = Path.Combine(_folder, name + ".log");
        return vhost;
    }

    /// <summary>
    /// The vhost arms the connection's timer before it writes the request's access log line, so once the line is there
    /// the idle time counts on the fake clock (the client may read the response before the server gets that far).
    /// </summary>
    private Task WaitForLoggedAsync(string vhost, int lines)
    {
        var log = Path.Combine(_folder, vhost + ".log");
        return Eventually.WaitUntilAsync(() => File.Exists(log) && File.ReadAllLines(log).Length >= lines);
    }

    private static async Task<NetworkStream> ConnectAsync(LoopbackServer server, string vhost)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint(vhost));
        return new NetworkStream(socket, ownsSocket: true);
    }

    private static Task<string> GetAsync(NetworkStream stream, string host) => SendAsync(stream, $"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");

    /// <summary>Sends a request and reads its response head and (Content-Length) body.</summary>
    private static async Task<string> SendAsync(NetworkStream stream, string request)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var text = Encoding.ASCII.GetString([.. received]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var length = text[..end].Split("\r\n").Select(h => h.Split(':', 2)).FirstOrDefault(h => h[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) is { } header
                    ? int.Parse(header[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)
                    : 0;
                if (received.Count >= end + 4 + length)
                {
                    return text;
                }
            }

            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                throw new EndOfStreamException($"the server closed the connection before a whole response: '{text}'");
            }

            received.AddRange(buffer.AsSpan(0, read));
        }
    }

    /// <summary>What the next read returns: 0 once the server has closed the connection (bounded by the default timeout).</summary>
    private static async Task<int> ReadToCloseAsync(NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(WsClient.DefaultTimeout);
        return await stream.ReadAsync(new byte[256], timeout.Token);
    }
}
