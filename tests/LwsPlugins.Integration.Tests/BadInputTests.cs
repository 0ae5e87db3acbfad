using System.Diagnostics;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>Hostile bytes over raw TCP: each ends with the status or close code RFC 6455 names, and the server serves on.</summary>
[TestFixture]
public sealed class BadInputTests
{
    private const string Protocol = "lws-mirror-protocol";
    private LoopbackServer _server = null!;
    private int _handlesBefore;
    private long _memoryBefore;

    private System.Net.IPEndPoint EndPoint => _server.EndPoint("strict");

    [OneTimeSetUp]
    public async Task Start()
    {
        var vhost = LoopbackServer.Vhost("strict", Protocol);
        vhost.MaxMessageSize = 64 * 1024;
        _server = await LoopbackServer.StartAsync(
            new LwsServerOptions { PluginsPath = LoopbackServer.BundledPluginsPath, WatchPlugins = false, HandshakeTimeoutMs = 1000, Vhosts = [vhost] }, TimeProvider.System);
        _handlesBefore = OpenHandles();
        _memoryBefore = ManagedMemory();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        try
        {
            // Every bad connection was closed: no handle or memory is left behind by the whole suite.
            await Eventually.WaitUntilAsync(() => OpenHandles() <= _handlesBefore + 20);
            Assert.That(ManagedMemory(), Is.LessThan(_memoryBefore + (32 << 20)));
        }
        finally
        {
            await _server.DisposeAsync();
        }
    }

    private static int OpenHandles() => Directory.GetFiles("/proc/self/fd").Length;

    private static long ManagedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [TearDown]
    public async Task ServerStillServesAFreshClient()
    {
        await using var client = await WsClient.ConnectAsync(_server.WebSocketUri("strict", "/?mirror=fresh-" + TestContext.CurrentContext.Test.ID), Protocol);
        await client.SendTextAsync("still fine");
        Assert.That(await client.ReceiveTextAsync(), Is.EqualTo("still fine"));
    }

    private static readonly byte[] s_invalidUtf8 = [0x68, 0xC3, 0x28, 0x69];

    /// <summary>The bad-frame cases by name, for the fast path's differential test.</summary>
    internal static IEnumerable<(string Name, byte[] Bytes)> FrameCases() => Frames().Select(c => (c.TestName!, (byte[])c.Arguments[0]!));

    /// <summary>The bad-handshake cases by name, for the fast path's differential test.</summary>
    internal static IEnumerable<(string Name, string Request)> HandshakeCases() => Handshakes().Select(c => (c.TestName!, (string)c.Arguments[0]!));

    private static IEnumerable<TestCaseData> Frames()
    {
        yield return Case("unmasked client frame", 1002, RawWebSocket.Frame(0x81, "hi"u8.ToArray(), masked: false));
        yield return Case("RSV1 without an extension", 1002, RawWebSocket.Frame(0xC1, "hi"u8.ToArray()));
        yield return Case("RSV3 set", 1002, RawWebSocket.Frame(0x91, "hi"u8.ToArray()));
        yield return Case("reserved data opcode 0x3", 1002, RawWebSocket.Frame(0x83, "hi"u8.ToArray()));
        yield return Case("reserved control opcode 0xB", 1002, RawWebSocket.Frame(0x8B, "hi"u8.ToArray()));
        yield return Case("fragmented ping", 1002, RawWebSocket.Frame(0x09, "hi"u8.ToArray()));
        yield return Case("ping payload over 125 bytes", 1002, RawWebSocket.Frame(0x89, new byte[126]));
        yield return Case("continuation without a start", 1002, RawWebSocket.Frame(0x80, "hi"u8.ToArray()));
        yield return Case("new text frame inside a fragmented message", 1002, [.. RawWebSocket.Frame(0x01, "a"u8.ToArray()), .. RawWebSocket.Frame(0x81, "b"u8.ToArray())]);
        yield return Case("invalid UTF-8 in a text message", 1007, RawWebSocket.Frame(0x81, s_invalidUtf8));
        yield return Case(
            "invalid UTF-8 split across fragments", 1007, [.. RawWebSocket.Frame(0x01, [0x61, 0xE2, 0x82]), .. RawWebSocket.Frame(0x80, [0x28, 0x62])]);
        // RFC 6455 §8.1 and lws: 1007 (.NET's WebSocket alone would say 1002); the guard checks the reason, also when it arrives in pieces.
        yield return Case("invalid UTF-8 in a close reason", 1007, RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000, [0xC3, 0x28])));
        yield return Case("close reason cut inside a UTF-8 sequence", 1007, RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000, [.. "ok "u8.ToArray(), 0xE2, 0x82])));
        yield return Case("close code 999", 1002, RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(999)));
        yield return Case("close code 1005 (reserved)", 1002, RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1005)));
        yield return Case("close code 1006 (reserved)", 1002, RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1006)));
        yield return Case("close code 1015 (reserved)", 1002, RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1015)));
        yield return Case("close code 5000", 1002, RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(5000)));
        yield return Case("1-byte close payload", 1002, RawWebSocket.Frame(0x88, [0x03]));
        yield return Case("64-bit length with the top bit set", 1002, RawWebSocket.Frame(0x82, [], declaredLength: 0x8000_0000_0000_0010));

        static TestCaseData Case(string name, int code, byte[] bytes) => new TestCaseData(bytes, code).SetName($"BadFrame_{name.Replace(' ', '_')}_Gets{code}");
    }

    [TestCaseSource(nameof(Frames))]
    public async Task BadFrame_GetsTheRfcCloseCode_AndTheConnectionCloses(byte[] bytes, int expected)
        => await AssertClosedWithAsync(bytes, expected);

    [Test]
    public async Task CloseReasonNotUtf8_SentOneByteAtATime_Gets1007()
    {
        using var socket = await RawWebSocket.UpgradeAsync(EndPoint, Protocol);
        foreach (var b in RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000, [.. "bye "u8.ToArray(), 0xC3, 0x28])))
        {
            await socket.SendAsync([b]);
        }

        Assert.That(await socket.ReadCloseCodeAsync(), Is.EqualTo(1007));
    }

    [Test]
    public async Task CloseReasonInUtf8_IsAnsweredWithTheSameCode()
    {
        using var socket = await RawWebSocket.UpgradeAsync(EndPoint, Protocol);
        await socket.SendAsync(RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000, "au revoir, à bientôt €"u8.ToArray())));

        Assert.That(await socket.ReadCloseCodeAsync(), Is.EqualTo(1000));
    }

    [Test]
    public async Task DeclaredLengthOverTheVhostLimit_Gets1009AtOnce_WithoutWaitingForTheBody()
        => await AssertClosedWithAsync(RawWebSocket.Frame(0x82, [], declaredLength: 1UL << 40), 1009);

    [Test]
    public async Task FragmentsAddingUpOverTheVhostLimit_Get1009()
        => await AssertClosedWithAsync([.. RawWebSocket.Frame(0x02, new byte[40 * 1024]), .. RawWebSocket.Frame(0x80, [], declaredLength: 40 * 1024)], 1009);

    [Test]
    public async Task MessageOverTheVhostLimit_Gets1009()
        => await AssertClosedWithAsync(RawWebSocket.Frame(0x82, new byte[70 * 1024]), 1009);

    /// <summary>
    /// Sends the bytes after a valid upgrade; the server must answer with the close code and close the TCP connection
    /// with a FIN: a reset could overtake the close frame (it did before UpgradedConnectionLifetime), so a reset fails.
    /// </summary>
    private async Task AssertClosedWithAsync(byte[] bytes, int expected)
    {
        using var socket = await RawWebSocket.UpgradeAsync(EndPoint, Protocol);
        await socket.SendAsync(bytes);

        Assert.That(await socket.ReadCloseCodeAsync(), Is.EqualTo(expected));
        Assert.That(await socket.IsClosedByServerAsync(TimeSpan.FromSeconds(10)), Is.True, "the TCP connection must close");
    }

    [Test]
    public async Task FailedConnections_EndWithTheirCloseFrameAndAFin_NeverAReset()
    {
        // Before UpgradedConnectionLifetime every one of these ended with a reset, and now and then the reset overtook
        // the close frame.
        (byte[] Bytes, int Code)[] failures =
        [
            (RawWebSocket.Frame(0x81, "hi"u8.ToArray(), masked: false), 1002),
            (RawWebSocket.Frame(0x83, "hi"u8.ToArray()), 1002),
            (RawWebSocket.Frame(0x81, s_invalidUtf8), 1007),
            (RawWebSocket.Frame(0x82, [], declaredLength: 1UL << 40), 1009),
        ];
        for (var round = 0; round < 5; round++)
        {
            foreach (var (bytes, code) in failures)
            {
                using var socket = await RawWebSocket.UpgradeAsync(EndPoint, Protocol);
                await socket.SendAsync(bytes);

                Assert.That(await socket.ReadCloseCodeAsync(), Is.EqualTo(code));
                Assert.That(await socket.IsClosedGracefullyAsync(TimeSpan.FromSeconds(10)), Is.True, $"close {code}: a FIN, not a reset");
            }
        }
    }

    private static IEnumerable<TestCaseData> Handshakes()
    {
        const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
        yield return Http("POST upgrade", 405, $"POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", "Allow: GET");
        yield return Http("version 8", 426, $"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 8\r\n\r\n", "Sec-WebSocket-Version: 13");
        yield return Http("no version", 426, $"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\n\r\n", "Sec-WebSocket-Version: 13");
        yield return Http("no key", 400, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", null);
        yield return Http("key of 15 bytes", 400, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\nSec-WebSocket-Version: 13\r\n\r\n", null);
        yield return Http("no Connection: Upgrade", 400, $"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n", null);
        yield return Http("malformed request line", 400, "GET/ HTTP/1.1\r\nHost: x\r\n\r\n", null);
        yield return Http("oversized URI", 414, $"GET /{new string('a', 20_000)} HTTP/1.1\r\nHost: x\r\n\r\n", null);
        yield return Http("oversized header", 431, $"GET / HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 40_000)}\r\n\r\n", null);
        yield return Http("too many headers", 431, "GET / HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, 120).Select(i => $"X-H{i}: v\r\n")) + "\r\n", null);

        static TestCaseData Http(string name, int status, string request, string? header)
            => new TestCaseData(request, status, header).SetName($"BadHandshake_{name.Replace(' ', '_').Replace(":", "")}_Gets{status}");
    }

    [TestCaseSource(nameof(Handshakes))]
    public async Task BadHandshake_GetsThePreciseStatus(string request, int expected, string? header)
    {
        using var socket = await RawWebSocket.ConnectAsync(EndPoint);

        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var (status, head) = await socket.ReadHttpResponseHeadAsync();

        Assert.That(status, Is.EqualTo(expected), head);
        if (header is not null)
        {
            Assert.That(head, Does.Contain(header));
        }

        // At once, not after the keep-alive (here the 1 s handshake timeout).
        Assert.That(await socket.IsClosedByServerAsync(TimeSpan.FromMilliseconds(500)), Is.True, "a refused handshake ends its connection");
    }

    [Test]
    public async Task HandshakeThatNeverCompletes_IsClosedAfterTheHandshakeTimeout()
    {
        using var socket = await RawWebSocket.ConnectAsync(EndPoint);
        await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"u8.ToArray());
        var started = Stopwatch.GetTimestamp();

        Assert.That(await socket.IsClosedByServerAsync(TimeSpan.FromSeconds(8)), Is.True);
        Assert.That(Stopwatch.GetElapsedTime(started), Is.GreaterThan(TimeSpan.FromMilliseconds(500)), "not before the timeout");
    }
}
