using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Tests.Common;

namespace LwsPlugins.Integration.Tests;

/// <summary>
/// The WebSocket fast path must answer every request exactly as Kestrel's HTTP pipeline does: the same bytes go to a
/// vhost with the fast path on and to one with it off (each alone on its listener, same protocols and limits), and the
/// outcomes (status, the headers that matter, body, subprotocol, close code, how the connection ends) must be equal.
/// </summary>
[TestFixture]
public sealed class WebSocketFastPathDifferentialTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private const int FastPathEvent = 410;
    private const int DirectSessionEvent = 404;

    private static readonly string[] s_headersThatMatter =
    [
        "connection", "upgrade", "sec-websocket-accept", "sec-websocket-protocol", "sec-websocket-version", "sec-websocket-extensions",
        "allow", "retry-after", "content-length", "content-type", "transfer-encoding", "location", "server",
    ];

    private LoopbackServer _server = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        VhostOptions Vhost(string name, bool fastPath, int maxSessions)
        {
            var vhost = LoopbackServer.Vhost(name, "lws-mirror-protocol", "dumb-increment-protocol");
            vhost.MaxMessageSize = 64 * 1024;
            vhost.MaxSessions = maxSessions;
            vhost.WebSocketFastPath = fastPath;
            return vhost;
        }

        _server = await LoopbackServer.StartAsync(
            new LwsServerOptions
            {
                PluginsPath = LoopbackServer.BundledPluginsPath,
                WatchPlugins = false,
                HandshakeTimeoutMs = 1000,
                Vhosts = [Vhost("vfast", true, 0), Vhost("vpipe", false, 0), Vhost("lfast", true, 1), Vhost("lpipe", false, 1)],
            },
            TimeProvider.System);
    }

    [OneTimeTearDown]
    public async Task Stop() => await _server.DisposeAsync();

    private int DirectSessions() => _server.Logs.Entries.Count(e => e.EventId.Id == DirectSessionEvent);

    private int FastPathUpgrades(string vhost)
        => _server.Logs.Entries.Count(e => e.EventId.Id == FastPathEvent && e.Message.Contains($"Vhost {vhost}:", StringComparison.Ordinal));

    /// <summary>Handshakes as browsers and lws's client send them (captured shapes; keys fixed so both sides get the same bytes).</summary>
    internal static IEnumerable<(string Name, string Request)> Corpus()
    {
        yield return ("chromium 131", "GET /?mirror=a HTTP/1.1\r\nHost: example.test:7681\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\nUpgrade: websocket\r\n"
            + "Origin: http://example.test:7681\r\nSec-WebSocket-Version: 13\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-US,en;q=0.9\r\n"
            + $"Sec-WebSocket-Key: {Key}\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n");
        yield return ("firefox 133", "GET /?mirror=b HTTP/1.1\r\nHost: example.test:7681\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br, zstd\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.test:7681\r\nSec-WebSocket-Protocol: dumb-increment-protocol\r\n"
            + $"Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Key: {Key}\r\nConnection: keep-alive, Upgrade\r\nSec-Fetch-Dest: empty\r\n"
            + "Sec-Fetch-Mode: websocket\r\nSec-Fetch-Site: same-origin\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nUpgrade: websocket\r\n\r\n");
        yield return ("safari 18", "GET / HTTP/1.1\r\nHost: example.test\r\nSec-WebSocket-Protocol: dumb-increment-protocol\r\nSec-WebSocket-Key: " + Key + "\r\n"
            + "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate\r\nOrigin: https://example.test\r\n"
            + "User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15\r\n"
            + "Connection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n");
        yield return ("lws 4.1 test client, mirror", "GET /?mirror=probe HTTP/1.1\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nHost: 127.0.0.1\r\n"
            + "Origin: http://127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n");
        yield return ("lws 4.1 test client, dumb", "GET / HTTP/1.1\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n"
            + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Protocol: dumb-increment-protocol\r\n"
            + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nSec-WebSocket-Version: 13\r\n\r\n");
        yield return (".NET ClientWebSocket", "GET /?mirror=n HTTP/1.1\r\nHost: 127.0.0.1:7681\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Protocol: lws-mirror-protocol, dumb-increment-protocol\r\nSec-WebSocket-Key: " + Key + "\r\n\r\n");
        yield return ("python websockets 13", "GET /?mirror=p HTTP/1.1\r\nHost: example.test:7681\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + Key + "\r\n"
            + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n"
            + "User-Agent: Python/3.11 websockets/13.1\r\n\r\n");
        yield return ("node ws 8", "GET /?mirror=w HTTP/1.1\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + Key + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\nHost: example.test:7681\r\n\r\n");
        yield return ("no subprotocol", $"GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        yield return ("unknown subprotocol", $"GET / HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: nope\r\n\r\n");
        yield return ("plain GET", "GET /index.html HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
        yield return ("HTTP/1.0 upgrade", $"GET / HTTP/1.0\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        yield return ("percent-encoded path", $"GET /a%20b?mirror=x HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n");
        yield return ("dot segments", $"GET /a/../b HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n");
        yield return ("two Host headers", $"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n");
        yield return ("frame right after the head", $"GET /?mirror=e HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n"
            + Encoding.Latin1.GetString(RawWebSocket.Frame(0x81, "early"u8.ToArray())));
    }

    [Test]
    public async Task CleanHandshakesOfRealClients_TakeTheFastPath_WithTheSameOutcomeAsThePipeline()
    {
        var before = FastPathUpgrades("vfast");
        var directBefore = DirectSessions();
        var outcomes = new List<string>();
        var mismatches = await CompareAsync(Corpus().Select(c => (c.Name, Encoding.Latin1.GetBytes(c.Request))), outcomes);

        Assert.That(mismatches, Is.Empty);
        Assert.That(outcomes.Count(o => o.StartsWith("101 ", StringComparison.Ordinal) && o.EndsWith("close 1000, then fin", StringComparison.Ordinal)), Is.EqualTo(13), "the corpus' ten clean handshakes upgrade and close cleanly, and so do three the fast path leaves to the pipeline (HTTP/1.0, a percent-encoded path, dot segments)");
        Assert.That(FastPathUpgrades("vfast") - before, Is.GreaterThanOrEqualTo(5), "the clean handshakes of the corpus (those without permessage-deflate) took the fast path");
        Assert.That(FastPathUpgrades("vpipe"), Is.Zero, "a vhost with the fast path off never takes it");
        Assert.That(DirectSessions() - directBefore, Is.GreaterThanOrEqualTo(5), "a plaintext head whole in the first bytes runs its session on the socket, without a Kestrel connection");
    }

    [Test]
    public async Task HeadSplitAcrossWrites_UpgradesTheSameOnBothPaths()
    {
        var request = Encoding.ASCII.GetBytes(
            $"GET /?mirror=split HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n");
        var fastBefore = FastPathUpgrades("vfast");

        var fast = await ExchangeAsync(_server.EndPoint("vfast"), request, split: 20);
        var pipe = await ExchangeAsync(_server.EndPoint("vpipe"), request, split: 20);

        Assert.That(fast.Status, Is.EqualTo(101));
        Assert.That(fast.Normalised("vfast"), Is.EqualTo(pipe.Normalised("vpipe")));
        // Whether the server peeked before the rest came (then Kestrel's connection and the fast path's middleware take
        // it) or after (then the session runs on the socket), the fast path takes it once.
        Assert.That(FastPathUpgrades("vfast") - fastBefore, Is.EqualTo(1), "the fast path took the head once it was whole");
    }

    [Test]
    public async Task BadInputCases_GetTheSameOutcomeOnBothPaths()
    {
        var handshakes = BadInputTests.HandshakeCases().Select(c => (c.Name, Encoding.ASCII.GetBytes(c.Request)));
        var upgrade = $"GET /?mirror=bad HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n";
        var frames = BadInputTests.FrameCases().Select(c => (c.Name, (byte[])[.. Encoding.ASCII.GetBytes(upgrade), .. c.Bytes]));

        var mismatches = await CompareAsync(handshakes.Concat(frames));

        Assert.That(mismatches, Is.Empty);
    }

    [Test]
    public async Task MutatedHandshakes_FromASeededGenerator_GetTheSameOutcomeOnBothPaths()
    {
        var random = new Random(21);
        var corpus = Corpus().Select(c => c.Request).ToArray();
        var cases = Enumerable.Range(0, 2000).Select(i => ($"mutation {i}", Mutate(random, corpus[random.Next(corpus.Length)]))).ToArray();

        var mismatches = await CompareAsync(cases);

        Assert.That(mismatches, Is.Empty);
        Assert.That(FastPathUpgrades("vfast"), Is.GreaterThan(100), "a share of the mutations stay clean upgrades (case, order, extra headers)");
    }

    [Test]
    public async Task HandshakeOverTheSessionLimit_IsRefusedTheSameOnBothPaths_AndNotTakenByTheFastPath()
    {
        var request = Encoding.ASCII.GetBytes(
            $"GET /?mirror=limit HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: lws-mirror-protocol\r\n\r\n");
        using var holdFast = await RawWebSocket.UpgradeAsync(_server.EndPoint("lfast"), "lws-mirror-protocol");
        using var holdPipe = await RawWebSocket.UpgradeAsync(_server.EndPoint("lpipe"), "lws-mirror-protocol");
        var before = FastPathUpgrades("lfast");

        var fast = await ExchangeAsync(_server.EndPoint("lfast"), request);
        var pipe = await ExchangeAsync(_server.EndPoint("lpipe"), request);

        Assert.That(fast.Status, Is.EqualTo(503));
        Assert.That(fast.Normalised("lfast"), Is.EqualTo(pipe.Normalised("lpipe")));
        Assert.That(FastPathUpgrades("lfast"), Is.EqualTo(before));
    }

    private async Task<List<string>> CompareAsync(IEnumerable<(string Name, byte[] Request)> cases, List<string>? outcomes = null)
    {
        var fast = _server.EndPoint("vfast");
        var pipe = _server.EndPoint("vpipe");
        var mismatches = new List<string>();
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(cases.Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                var (onFast, onPipe) = (ExchangeAsync(fast, c.Request), ExchangeAsync(pipe, c.Request));
                var (a, b) = ((await onFast).Normalised("vfast"), (await onPipe).Normalised("vpipe"));
                lock (mismatches)
                {
                    outcomes?.Add(a);
                }

                if (a != b)
                {
                    lock (mismatches)
                    {
                        mismatches.Add($"{c.Name}: {Printable(c.Request)}\n  fast path: {a}\n  pipeline:  {b}");
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        return mismatches;
    }

    private static string Printable(byte[] request)
        => Encoding.Latin1.GetString(request[..Math.Min(request.Length, 600)]).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>One request on a fresh connection: the response head, its body, and, after a 101, the close handshake.</summary>
    private static async Task<Outcome> ExchangeAsync(IPEndPoint endPoint, byte[] request, int split = 0)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        await socket.ConnectAsync(endPoint, timeout.Token);
        try
        {
            if (split > 0)
            {
                // The head's first bytes alone, then the rest once the server has surely seen them.
                await socket.SendAsync(request.AsMemory(0, split), SocketFlags.None, timeout.Token);
                await Task.Delay(200, timeout.Token);
                request = request[split..];
            }

            await socket.SendAsync(request, SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            // The server may close before it has read everything (a refused head): what it answered still counts.
        }

        var received = new List<byte>();
        var ended = await ReadUntilAsync(socket, received, r => IndexOfHeadEnd(r) >= 0, timeout.Token);
        var headEnd = IndexOfHeadEnd(received);
        if (headEnd < 0)
        {
            return new Outcome(0, "", "", ended);
        }

        var head = Encoding.Latin1.GetString([.. received.Take(headEnd)]);
        var lines = head.Split("\r\n");
        var status = int.TryParse(lines[0].Split(' ').ElementAtOrDefault(1), out var code) ? code : -1;
        var headers = lines.Skip(1)
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2 && s_headersThatMatter.Contains(p[0].Trim().ToLowerInvariant()))
            .Select(p => $"{p[0].Trim().ToLowerInvariant()}: {p[1].Trim()}")
            .Order(StringComparer.Ordinal);
        var rest = received.Skip(headEnd + 4).ToList();
        if (status == 101)
        {
            try
            {
                await socket.SendAsync(RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000, "bye"u8.ToArray())), SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                // The server has already failed the connection (a bad frame after the head): its close frame is read below.
            }

            var end = await ReadUntilAsync(socket, rest, r => CloseFrame(r) is not null, timeout.Token);
            var after = CloseFrame(rest) is { } closeCode ? $"close {closeCode}, then {await ReadUntilAsync(socket, [], _ => false, timeout.Token)}" : end;
            return new Outcome(status, string.Join("; ", headers), "", after);
        }

        var length = lines.Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("content-length", StringComparison.OrdinalIgnoreCase))
            .Select(p => int.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        var closes = lines.Any(l => l.StartsWith("Connection: close", StringComparison.OrdinalIgnoreCase));
        var bodyEnd = await ReadUntilAsync(socket, rest, r => r.Count >= length, timeout.Token);
        var body = Encoding.Latin1.GetString([.. rest.Take(length)]);
        var ending = closes ? await ReadUntilAsync(socket, [], _ => false, timeout.Token) : bodyEnd == "open" ? "kept open" : bodyEnd;
        return new Outcome(status, string.Join("; ", headers), body, ending);
    }

    /// <summary>Reads until <paramref name="done"/> or the end of the connection: "open", "fin", "reset" or "timeout".</summary>
    private static async Task<string> ReadUntilAsync(Socket socket, List<byte> received, Func<List<byte>, bool> done, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        while (!done(received))
        {
            try
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    return "fin";
                }

                received.AddRange(buffer.AsSpan(0, read));
            }
            catch (SocketException)
            {
                return "reset";
            }
            catch (OperationCanceledException)
            {
                return "timeout";
            }
        }

        return "open";
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (var i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The code of the first close frame among the server's (unmasked) frames, once it has arrived whole.</summary>
    private static int? CloseFrame(List<byte> bytes)
    {
        var at = 0;
        while (at + 2 <= bytes.Count)
        {
            var opcode = bytes[at] & 0x0F;
            var length = (long)(bytes[at + 1] & 0x7F);
            var header = 2;
            if (length == 126)
            {
                if (at + 4 > bytes.Count)
                {
                    return null;
                }

                length = BinaryPrimitives.ReadUInt16BigEndian([bytes[at + 2], bytes[at + 3]]);
                header = 4;
            }
            else if (length == 127)
            {
                if (at + 10 > bytes.Count)
                {
                    return null;
                }

                length = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.GetRange(at + 2, 8).ToArray());
                header = 10;
            }

            if (at + header + length > bytes.Count)
            {
                return null;
            }

            if (opcode == 0x8)
            {
                return length >= 2 ? (bytes[at + header] << 8) | bytes[at + header + 1] : 1005;
            }

            at += header + (int)length;
        }

        return null;
    }

    /// <summary>One mutation of a handshake's head (the blank line that ends it is kept, so most stay complete requests).</summary>
    private static byte[] Mutate(Random random, string request)
    {
        var head = request[..(request.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 2)];
        var lines = head.Split("\r\n", StringSplitOptions.None).Where(l => l.Length > 0).ToList();
        const string Interesting = " \t:\r\n%./,;=\0\u0080\u00ffaZ9-_~?#@\"";
        switch (random.Next(12))
        {
            case 0:
                head = head.Remove(random.Next(head.Length), 1);
                break;
            case 1:
                head = head.Insert(random.Next(head.Length), Interesting[random.Next(Interesting.Length)].ToString());
                break;
            case 2:
                var at = random.Next(head.Length);
                head = string.Concat(head.AsSpan(0, at), Interesting[random.Next(Interesting.Length)].ToString(), head.AsSpan(at + 1));
                break;
            case 3:
                lines.Insert(random.Next(1, lines.Count + 1), lines[random.Next(1, lines.Count)]);
                head = string.Join("\r\n", lines) + "\r\n";
                break;
            case 4:
                lines.RemoveAt(random.Next(1, lines.Count));
                head = string.Join("\r\n", lines) + "\r\n";
                break;
            case 5:
                var i = random.Next(1, lines.Count);
                lines[i] = random.Next(2) == 0 ? lines[i].ToUpperInvariant() : lines[i].ToLowerInvariant();
                head = string.Join("\r\n", lines) + "\r\n";
                break;
            case 6:
                var shuffled = lines.Skip(1).OrderBy(_ => random.Next()).Prepend(lines[0]);
                head = string.Join("\r\n", shuffled) + "\r\n";
                break;
            case 7:
                string[] extra = ["X-Probe: 1", "Content-Length: 0", "Transfer-Encoding: chunked", "Expect: 100-continue", " folded", "Sec-WebSocket-Version: 8",
                    "Sec-WebSocket-Protocol: dumb-increment-protocol", "Upgrade: h2c", "Host: other.test", "Cookie: " + new string('c', random.Next(10, 6000)),
                    "Sec-WebSocket-Extensions: x-unknown", "Connection: close", "User-Agent: second"];
                lines.Insert(random.Next(1, lines.Count + 1), extra[random.Next(extra.Length)]);
                head = string.Join("\r\n", lines) + "\r\n";
                break;
            case 8:
                string[] starts = ["POST / HTTP/1.1", "GET / HTTP/1.0", "GET * HTTP/1.1", "GET http://example.test/ HTTP/1.1", "get / HTTP/1.1", "GET  / HTTP/1.1",
                    "GET /?mirror= HTTP/1.1", "GET /? HTTP/1.1", "GET /x//y HTTP/1.1", "GET /%2e%2e/ HTTP/1.1", "GET /ok;p=1?q=%41 HTTP/1.1", "PRI * HTTP/2.0", "GET / HTTP/1.1 "];
                lines[0] = starts[random.Next(starts.Length)];
                head = string.Join("\r\n", lines) + "\r\n";
                break;
            case 9:
                var k = lines.FindIndex(l => l.StartsWith("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase));
                string[] keys = ["AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAA", "!!!!!!!!!!!!!!!!!!!!!!==", "", Key + " ", "dGhlIHNhbXBsZSBub25jZQ"];
                if (k >= 0)
                {
                    lines[k] = "Sec-WebSocket-Key: " + keys[random.Next(keys.Length)];
                }

                head = string.Join("\r\n", lines) + "\r\n";
                break;
            case 10:
                var p = lines.FindIndex(l => l.StartsWith("Sec-WebSocket-Protocol", StringComparison.OrdinalIgnoreCase));
                string[] offers = ["", ",", "lws-mirror-protocol,", " lws-mirror-protocol , dumb-increment-protocol ", "\"lws-mirror-protocol\"", "LWS-MIRROR-PROTOCOL",
                    "nope, dumb-increment-protocol", "lws-mirror-protocol,,dumb-increment-protocol"];
                if (p >= 0)
                {
                    lines[p] = "Sec-WebSocket-Protocol: " + offers[random.Next(offers.Length)];
                }

                head = string.Join("\r\n", lines) + "\r\n";
                break;
            default:
                var c = lines.FindIndex(l => l.StartsWith("Connection", StringComparison.OrdinalIgnoreCase) || l.StartsWith("Upgrade", StringComparison.OrdinalIgnoreCase));
                string[] values = ["Connection: upgrade", "Connection: Upgrade, keep-alive", "Connection: keep-alive", "Upgrade: WebSocket", "Upgrade: websocket, h2c", "Upgrade: web socket"];
                if (c >= 0)
                {
                    lines[c] = values[random.Next(values.Length)];
                }

                head = string.Join("\r\n", lines) + "\r\n";
                break;
        }

        return Encoding.Latin1.GetBytes(head + "\r\n");
    }

    private sealed record Outcome(int Status, string Headers, string Body, string Ending)
    {
        /// <summary>The outcome with the vhost's name (in refusal texts) replaced, so the two vhosts compare equal.</summary>
        public string Normalised(string vhost) => $"{Status} [{Headers}] body '{Body.Replace(vhost, "VHOST", StringComparison.Ordinal)}' {Ending}";
    }
}
