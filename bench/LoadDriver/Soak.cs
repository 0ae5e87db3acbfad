using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LoadDriver;

/// <summary>
/// Soak (issue 7): churn, mirror fan-out, a reader that never reads, and bad input, all at once for a bounded time
/// against one server process; every sample reports the server's RSS, open descriptors, threads and CPU, and what each
/// workload did and got wrong in that interval. Ends with a settle period, a last sample and a fresh-client check.
/// </summary>
internal static class Soak
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";


    public sealed record Sample(double Minutes, long RssBytes, int Fds, int Threads, double ServerCpuPercent, double DriverCpuPercent,
        long Cycles, long Sent, long Delivered, long BadInputs, long Errors);

    public sealed record Result(IReadOnlyList<Sample> Samples, Sample Settled, IReadOnlyDictionary<string, long> Errors,
        IReadOnlyDictionary<string, long> Outcomes, long SlowReaders, long Lost, long OutOfOrder, bool FreshClientServed, bool ServerAlive);

    private sealed class Counters
    {
        public long Cycles;
        public long Sent;
        public long Delivered;
        public long BadInputs;
        public readonly ConcurrentDictionary<string, long> Errors = new();
        public readonly ConcurrentDictionary<string, long> Outcomes = new();

        public long ErrorCount => Errors.Values.Sum();

        public void Error(string kind) => Errors.AddOrUpdate(kind, 1, static (_, n) => n + 1);

        public void Outcome(string kind) => Outcomes.AddOrUpdate(kind, 1, static (_, n) => n + 1);
    }

    public static async Task<Result> RunAsync(ServerProcess server, TimeSpan duration, TimeSpan sampleEvery, int members, int senders, int ratePerSender, int churnWorkers, Action<string> line)
    {
        var counters = new Counters();
        using var stop = new CancellationTokenSource();

        // Fan-out: members of one mirror instance; senders are members too and send at a bounded rate.
        var receivers = new List<Receiver>();
        for (var i = 0; i < members; i++)
        {
            var client = await RawClient.ConnectAsync(server.EndPoint, Sources.For(i), "/?mirror=soak", "lws-mirror-protocol", 1 << 16, CancellationToken.None);
            receivers.Add(new Receiver(client, senders));
        }

        var receiving = receivers.Select(r => r.RunAsync(counters, stop.Token)).ToList();
        var lastSeq = new long[senders];
        var sending = Enumerable.Range(0, senders).Select(s => SendAsync(receivers[s].Client, s, ratePerSender, lastSeq, counters, stop.Token)).ToList();
        var churning = Enumerable.Range(0, churnWorkers).Select(w => ChurnAsync(server.EndPoint, w, counters, stop.Token)).ToList();
        var slowReaders = 0L;
        var slow = SlowReaderAsync(server.EndPoint, () => Interlocked.Increment(ref slowReaders), counters, stop.Token);
        var bad = BadInputAsync(server.EndPoint, counters, stop.Token);
        var silent = SilentConnectionsAsync(server.EndPoint, counters, stop.Token);

        line($"| minute | RSS MiB | fds | threads | server CPU | driver CPU | churn cycles | fan-out sent | delivered | bad inputs | errors |");
        line($"| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var samples = new List<Sample>();
        var started = Stopwatch.StartNew();
        var previous = Snapshot(server, counters);
        while (started.Elapsed < duration && !server.HasExited)
        {
            await Task.Delay(sampleEvery);
            if (server.HasExited)
            {
                break;
            }

            var now = Snapshot(server, counters);
            var seconds = (now.Time - previous.Time).TotalSeconds;
            var sample = new Sample(
                started.Elapsed.TotalMinutes, ServerRss(server), Fds(server), server.Threads(),
                100 * (now.ServerCpu - previous.ServerCpu) / seconds, 100 * (now.DriverCpu - previous.DriverCpu) / seconds,
                now.Cycles - previous.Cycles, now.Sent - previous.Sent, now.Delivered - previous.Delivered, now.BadInputs - previous.BadInputs, now.Errors - previous.Errors);
            samples.Add(sample);
            line(Row(sample));
            previous = now;
        }

        await stop.CancelAsync();
        await Task.WhenAll([.. sending, .. churning, slow, bad, silent]);
        // Everything sent is delivered to members that keep reading: give the last messages time to arrive.
        await Task.Delay(TimeSpan.FromSeconds(2));
        foreach (var receiver in receivers)
        {
            receiver.Client.Dispose();
        }

        await Task.WhenAll(receiving);
        long lost = 0, outOfOrder = 0;
        foreach (var receiver in receivers)
        {
            lost += receiver.Lost(lastSeq);
            outOfOrder += receiver.OutOfOrder;
        }

        if (lost > 0)
        {
            counters.Errors.AddOrUpdate("fan-out lost messages", lost, (_, n) => n + lost);
        }

        if (outOfOrder > 0)
        {
            counters.Errors.AddOrUpdate("fan-out out of order", outOfOrder, (_, n) => n + outOfOrder);
        }

        // No load: what the server keeps once every connection is gone.
        var alive = !server.HasExited;
        await Task.Delay(TimeSpan.FromSeconds(15));
        var settled = new Sample(started.Elapsed.TotalMinutes, alive ? ServerRss(server) : 0, alive ? Fds(server) : 0, alive ? server.Threads() : 0,
            0, 0, 0, 0, 0, 0, 0);
        var fresh = alive && await FreshClientServedAsync(server.EndPoint);
        return new Result(samples, settled, counters.Errors, counters.Outcomes, slowReaders, lost, outOfOrder, fresh, alive && !server.HasExited);
    }

    public static string Row(Sample s) =>
        $"| {s.Minutes:F1} | {s.RssBytes / 1048576.0:F1} | {s.Fds} | {s.Threads} | {s.ServerCpuPercent:F0} % | {s.DriverCpuPercent:F0} % | {s.Cycles:N0} | {s.Sent:N0} | {s.Delivered:N0} | {s.BadInputs:N0} | {s.Errors:N0} |";

    private readonly record struct Totals(TimeSpan Time, double ServerCpu, double DriverCpu, long Cycles, long Sent, long Delivered, long BadInputs, long Errors);

    private static Totals Snapshot(ServerProcess server, Counters c) => new(
        TimeSpan.FromSeconds(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency), server.HasExited ? 0 : server.CpuSeconds(), ProcCpu.Self(),
        Interlocked.Read(ref c.Cycles), Interlocked.Read(ref c.Sent), Interlocked.Read(ref c.Delivered), Interlocked.Read(ref c.BadInputs), c.ErrorCount);

    private static long ServerRss(ServerProcess server) => server.RssBytes();

    private static int Fds(ServerProcess server) => Directory.GetFiles($"/proc/{server.Pid}/fd").Length;

    private static async Task SendAsync(RawClient client, int sender, int perSecond, long[] lastSeq, Counters counters, CancellationToken stop)
    {
        var payload = new byte[64];
        var interval = TimeSpan.FromSeconds(1.0 / perSecond);
        var next = Stopwatch.GetTimestamp();
        for (long seq = 0; !stop.IsCancellationRequested; seq++)
        {
            Payload.Write(payload, sender, seq, Stopwatch.GetTimestamp());
            var frame = client.BuildTextFrame(payload).ToArray();
            try
            {
                await client.Socket.SendAsync(frame, SocketFlags.None);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                counters.Error("fan-out sender disconnected");
                return;
            }

            Volatile.Write(ref lastSeq[sender], seq);
            Interlocked.Increment(ref counters.Sent);
            next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>A mirror member that reads everything and checks each sender's sequence.</summary>
    private sealed class Receiver(RawClient client, int senders)
    {
        private readonly long[] _next = new long[senders];
        private bool _stopping;

        public RawClient Client => client;

        public long OutOfOrder { get; private set; }

        public long Gaps { get; private set; }

        public async Task RunAsync(Counters counters, CancellationToken stop)
        {
            using var registration = stop.Register(() => _stopping = true);
            await client.ReceiveLoopAsync(payload =>
            {
                if (Payload.TryRead(payload.Span, out var sender, out var seq, out _) && sender < _next.Length)
                {
                    if (seq < _next[sender])
                    {
                        OutOfOrder++;
                    }
                    else
                    {
                        Gaps += seq - _next[sender];
                        _next[sender] = seq + 1;
                    }

                    Interlocked.Increment(ref counters.Delivered);
                }

                return true;
            }, CancellationToken.None);
            if (!_stopping)
            {
                counters.Error("fan-out member disconnected");
            }
        }

        /// <summary>Messages this member missed: gaps inside the stream and any sent after its last one.</summary>
        public long Lost(long[] lastSeq)
        {
            var lost = Gaps;
            for (var s = 0; s < _next.Length; s++)
            {
                lost += Math.Max(0, lastSeq[s] + 1 - _next[s]);
            }

            return lost;
        }
    }

    private static async Task ChurnAsync(IPEndPoint server, int worker, Counters counters, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var (path, protocol) = i % 2 == 0 ? ("/?mirror=churn", "lws-mirror-protocol") : ("/", "dumb-increment-protocol");
            try
            {
                using var client = await RawClient.ConnectAsync(server, Sources.For(1000 + (worker * 1000) + (i % 1000)), path, protocol, 4096, CancellationToken.None);
                await client.SendCloseAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                if (await client.DrainUntilClosedAsync(timeout.Token))
                {
                    Interlocked.Increment(ref counters.Cycles);
                }
                else
                {
                    counters.Error("churn: no close frame");
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                counters.Error("churn: " + ex.GetType().Name);
            }
        }
    }

    /// <summary>A mirror member that never reads; replaced every 30 s, so its queue and the slow-consumer policy stay busy.</summary>
    private static async Task SlowReaderAsync(IPEndPoint server, Action created, Counters counters, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(server, stop);
                await socket.SendAsync(Encoding.ASCII.GetBytes(Upgrade("/?mirror=soak", "lws-mirror-protocol")), SocketFlags.None, stop);
                created();
                await Task.Delay(TimeSpan.FromSeconds(30), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                counters.Error("slow reader: connect failed");
            }
        }
    }

    private sealed record BadCase(string Name, byte[] Bytes, int Expected, bool AfterUpgrade);

    private static readonly BadCase[] s_cases =
    [
        new("POST upgrade", Ascii($"POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n"), 405, false),
        new("version 8", Ascii($"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 8\r\n\r\n"), 426, false),
        new("bad key", Ascii("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAA\r\nSec-WebSocket-Version: 13\r\n\r\n"), 400, false),
        new("garbage request line", Ascii("HELLO THERE\r\n\r\n"), 400, false),
        new("oversized header", Ascii($"GET / HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 40_000)}\r\n\r\n"), 431, false),
        new("oversized URI", Ascii($"GET /{new string('a', 20_000)} HTTP/1.1\r\nHost: x\r\n\r\n"), 414, false),
        new("unmasked frame", Frame(0x81, "hi"u8, masked: false), 1002, true),
        new("reserved opcode", Frame(0x83, "hi"u8), 1002, true),
        new("RSV1 without extension", Frame(0xC1, "hi"u8), 1002, true),
        new("fragmented ping", Frame(0x09, "hi"u8), 1002, true),
        new("continuation without start", Frame(0x80, "hi"u8), 1002, true),
        new("invalid UTF-8", Frame(0x81, [0x68, 0xC3, 0x28]), 1007, true),
        new("close code 999", Frame(0x88, [0x03, 0xE7]), 1002, true),
        new("1-byte close payload", Frame(0x88, [0x03]), 1002, true),
        new("declared 2^40 bytes", Frame(0x82, [], declared: 1UL << 40), 1009, true),
        new("64-bit length top bit", Frame(0x82, [], declared: 0x8000_0000_0000_0010), 1002, true),
    ];

    private static async Task BadInputAsync(IPEndPoint server, Counters counters, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var bad = s_cases[i % s_cases.Length];
            try
            {
                var outcome = await BadOnceAsync(server, bad, i);
                Interlocked.Increment(ref counters.BadInputs);
                counters.Outcome(outcome);
                if (outcome != "expected")
                {
                    counters.Error($"bad input '{bad.Name}': {outcome}");
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
                counters.Error($"bad input '{bad.Name}': {ex.GetType().Name} {ex.Message}");
            }
        }
    }

    /// <summary>"expected", or what went wrong (a reset instead of close frame + FIN is wrong too).</summary>
    private static async Task<string> BadOnceAsync(IPEndPoint server, BadCase bad, int i)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(Sources.For(20_000 + (i % 5000)), 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(server, timeout.Token);
        var received = new MemoryStream();
        if (bad.AfterUpgrade)
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(Upgrade($"/?mirror=bad{i % 7}", "lws-mirror-protocol")), SocketFlags.None, timeout.Token);
            var head = await ReadHeadAsync(socket, received, timeout.Token);
            if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                return "upgrade refused: " + head.Split('\r')[0];
            }
        }

        await socket.SendAsync(bad.Bytes, SocketFlags.None, timeout.Token);
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            if (bad.AfterUpgrade)
            {
                return CloseCode(received.ToArray()) is null ? "reset before the close frame" : "reset after the close frame";
            }

            // A refused request whose bytes the server did not read (an oversized header) may end in a reset: the status counts.
        }
        catch (OperationCanceledException)
        {
            return "connection not closed within 15 s";
        }

        var bytes = received.ToArray();
        if (!bad.AfterUpgrade)
        {
            var status = Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 12));
            return status.StartsWith($"HTTP/1.1 {bad.Expected}", StringComparison.Ordinal) ? "expected" : $"status '{status}' instead of {bad.Expected}";
        }

        var code = CloseCode(bytes);
        return code == bad.Expected ? "expected" : $"close code {code?.ToString() ?? "none"} instead of {bad.Expected}";
    }

    /// <summary>A connection that never sends a byte: the server must drop it (handshakeTimeoutMs, 10 s by default).</summary>
    private static async Task SilentConnectionsAsync(IPEndPoint server, Counters counters, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(server, stop);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(TimeSpan.FromSeconds(20));
                var read = await socket.ReceiveAsync(new byte[16], SocketFlags.None, timeout.Token);
                Interlocked.Increment(ref counters.BadInputs);
                counters.Outcome(read == 0 ? "expected" : "silent connection got bytes");
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                counters.Error("silent connection not dropped within 20 s");
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                Interlocked.Increment(ref counters.BadInputs);
                counters.Outcome("expected");
            }
        }
    }

    private static async Task<bool> FreshClientServedAsync(IPEndPoint server)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var counter = await RawClient.ConnectAsync(server, null, "/", "dumb-increment-protocol", 4096, timeout.Token);
            var numbers = new List<string>();
            await counter.ReceiveLoopAsync(p => { numbers.Add(Encoding.ASCII.GetString(p.Span)); return numbers.Count < 3; }, timeout.Token);
            using var mirror = await RawClient.ConnectAsync(server, null, "/?mirror=fresh", "lws-mirror-protocol", 4096, timeout.Token);
            await mirror.Socket.SendAsync(mirror.BuildTextFrame("fresh"u8).ToArray(), SocketFlags.None);
            string? echo = null;
            await mirror.ReceiveLoopAsync(p => { echo = Encoding.ASCII.GetString(p.Span); return false; }, timeout.Token);
            return numbers.Count == 3 && long.Parse(numbers[2]) == long.Parse(numbers[0]) + 2 && echo == "fresh";
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or FormatException)
        {
            return false;
        }
    }

    private static async Task<string> ReadHeadAsync(Socket socket, MemoryStream leftover, CancellationToken ct)
    {
        var buffer = new byte[4096];
        var head = new MemoryStream();
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (read == 0)
            {
                return Encoding.ASCII.GetString(head.ToArray());
            }

            head.Write(buffer, 0, read);
            var bytes = head.ToArray();
            var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                leftover.Write(bytes, end + 4, bytes.Length - end - 4);
                return Encoding.ASCII.GetString(bytes, 0, end);
            }
        }
    }

    /// <summary>The code of the first close frame among the server's (unmasked) frames, or null.</summary>
    private static int? CloseCode(byte[] bytes)
    {
        var at = 0;
        while (at + 2 <= bytes.Length)
        {
            var opcode = bytes[at] & 0x0F;
            long length = bytes[at + 1] & 0x7F;
            var header = 2;
            if (length == 126 && at + 4 <= bytes.Length)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at + 2));
                header = 4;
            }
            else if (length == 127 && at + 10 <= bytes.Length)
            {
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(at + 2));
                header = 10;
            }

            if (at + header + length > bytes.Length)
            {
                return null;
            }

            if (opcode == 0x8)
            {
                return length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at + header)) : 1005;
            }

            at += header + (int)length;
        }

        return null;
    }

    private static string Upgrade(string path, string protocol) =>
        $"GET {path} HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n";

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static byte[] Frame(byte first, ReadOnlySpan<byte> payload, bool masked = true, ulong? declared = null)
    {
        var frame = new List<byte> { first };
        var mask = masked ? 0x80 : 0;
        var length = declared ?? (ulong)payload.Length;
        if (length < 126)
        {
            frame.Add((byte)(mask | (int)length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.Add((byte)(mask | 126));
            frame.Add((byte)(length >> 8));
            frame.Add((byte)length);
        }
        else
        {
            frame.Add((byte)(mask | 127));
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                frame.Add((byte)(length >> shift));
            }
        }

        byte[] key = [0x12, 0x34, 0x56, 0x78];
        if (masked)
        {
            frame.AddRange(key);
        }

        for (var i = 0; i < payload.Length; i++)
        {
            frame.Add(masked ? (byte)(payload[i] ^ key[i & 3]) : payload[i]);
        }

        return [.. frame];
    }
}
