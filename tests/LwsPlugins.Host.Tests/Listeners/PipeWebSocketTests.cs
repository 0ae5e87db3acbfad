using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host.Listeners;
using LwsPlugins.Host.Sessions;
using LwsPlugins.Tests.Common;
using Microsoft.Extensions.Time.Testing;

namespace LwsPlugins.Host.Tests.Listeners;

/// <summary>
/// The fast path's own framing on real pipes: what it hands the session, what it writes back, and, over seeded random
/// frame sequences, the same outcome as ManagedWebSocket under <see cref="ClientFrameGuardStream"/> (the pipeline's stack).
/// </summary>
[TestFixture]
public sealed class PipeWebSocketTests
{
    private const int MaxMessageSize = 64 * 1024;

    [Test]
    public async Task AFragmentedMessage_WithAPingInside_IsOneMessage_AndThePingIsAnswered()
    {
        var outcome = await RunAsync(Own, [
            .. RawWebSocket.Frame(0x01, "Hel"u8.ToArray()),
            .. RawWebSocket.Frame(0x89, "p!"u8.ToArray()),
            .. RawWebSocket.Frame(0x00, "l"u8.ToArray()),
            .. RawWebSocket.Frame(0x80, "o"u8.ToArray()),
            .. RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000))]);

        Assert.That(outcome.Messages, Is.EqualTo(new[] { "Text:Hello" }));
        Assert.That(outcome.Sent, Is.EqualTo(new[] { "A:7021", "8:03E8" }), "the pong carries the ping's payload; the close is echoed");
        Assert.That(outcome.End, Is.EqualTo("close 1000 '' Closed"));
    }

    [Test]
    public async Task Utf8SplitAcrossFrames_IsValid_AndAnInvalidSequenceGets1007()
    {
        var euro = "€"u8.ToArray();
        var good = await RunAsync(Own, [
            .. RawWebSocket.Frame(0x01, [(byte)'a', euro[0]]), .. RawWebSocket.Frame(0x80, euro[1..]), .. RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000))]);
        Assert.That(good.Messages, Is.EqualTo(new[] { "Text:a€" }));

        var bad = await RunAsync(Own, [.. RawWebSocket.Frame(0x01, [0x61, 0xE2, 0x82]), .. RawWebSocket.Frame(0x80, [0x28, 0x62])]);
        Assert.That(bad.Sent, Is.EqualTo(new[] { "8:03EF" }), "1007, without a reason, as ManagedWebSocket sends it");
        Assert.That(bad.End, Does.StartWith("failed"));
    }

    [Test]
    public async Task ADeclaredLengthOverTheLimit_Gets1009AtOnce_WithoutWaitingForTheBody()
    {
        var pipes = new Pipes();
        using var socket = Own(pipes.Server);
        var receive = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        await pipes.Client.WriteAsync(RawWebSocket.Frame(0x82, [], declaredLength: MaxMessageSize + 1UL));

        Assert.That(async () => await receive, Throws.InstanceOf<WebSocketException>());
        Assert.That(Frames(await pipes.ReadServerOutputAsync()), Is.EqualTo(new[] { "8:03F1" + Hex($"message larger than {MaxMessageSize} bytes") }));
        Assert.That(socket.State, Is.EqualTo(WebSocketState.Aborted));
    }

    [Test]
    public async Task AClientClose_CompletesTheReceive_WithItsCodeAndReason_AndTheEchoClosesTheSocket()
    {
        var pipes = new Pipes();
        using var socket = Own(pipes.Server);
        await pipes.Client.WriteAsync(RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(4001, "à bientôt"u8.ToArray())));

        var result = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
        Assert.That(result.MessageType, Is.EqualTo(WebSocketMessageType.Close));
        Assert.That((socket.CloseStatus, socket.CloseStatusDescription, socket.State), Is.EqualTo(((WebSocketCloseStatus)4001, "à bientôt", WebSocketState.CloseReceived)));

        await socket.CloseOutputAsync(socket.CloseStatus!.Value, socket.CloseStatusDescription, CancellationToken.None);
        Assert.That(socket.State, Is.EqualTo(WebSocketState.Closed));
        Assert.That(Frames(await pipes.ReadServerOutputAsync()), Is.EqualTo(new[] { "8:0FA1" + Hex("à bientôt") }));
    }

    [Test]
    public async Task AZeroByteReceive_WaitsWithoutReading_ThenReportsTheFrameItsBufferedReadTakes()
    {
        var pipes = new Pipes();
        using var socket = Own(pipes.Server);
        var idle = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
        await Task.Delay(50);
        Assert.That(idle.IsCompleted, Is.False, "nothing has arrived");

        await pipes.Client.WriteAsync(RawWebSocket.Frame(0x82, [1, 2, 3]));
        var header = await idle;
        Assert.That((header.Count, header.MessageType, header.EndOfMessage), Is.EqualTo((0, WebSocketMessageType.Binary, false)));

        var buffer = new byte[16];
        var data = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        Assert.That((data.Count, data.EndOfMessage), Is.EqualTo((3, true)));
        Assert.That(buffer[..3], Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public async Task APingNotAnsweredWithinThePongTimeout_AbortsThePendingReceive()
    {
        var time = new FakeTimeProvider();
        var pipes = new Pipes();
        using var socket = new PipeWebSocket(pipes.Server, null, MaxMessageSize, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), time);
        var idle = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();

        time.Advance(TimeSpan.FromSeconds(10));
        var ping = await pipes.ReadServerFrameAsync();
        Assert.That(ping, Does.StartWith("9:"), "a keep-alive ping");
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.That(idle.IsCompleted, Is.False, "still within the pong timeout");

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.That(async () => await idle, Throws.InstanceOf<WebSocketException>().With.Message.Contains("KeepAliveTimeout"));
        Assert.That(socket.State, Is.EqualTo(WebSocketState.Aborted));
    }

    [Test]
    public async Task APongWithThePingsPayload_KeepsTheConnection()
    {
        var time = new FakeTimeProvider();
        var pipes = new Pipes();
        using var socket = new PipeWebSocket(pipes.Server, null, MaxMessageSize, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), time);
        var idle = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();

        time.Advance(TimeSpan.FromSeconds(10));
        var ping = await pipes.ReadServerFrameAsync();
        await pipes.Client.WriteAsync(RawWebSocket.Frame(0x8A, Convert.FromHexString(ping[2..])));
        await Eventually.WaitUntilAsync(() => !socket.IsAwaitingPong);
        time.Advance(TimeSpan.FromSeconds(6));

        Assert.That(idle.IsCompleted, Is.False, "the pong came back in time");
        Assert.That(socket.State, Is.EqualTo(WebSocketState.Open));
    }

    [TestCaseSource(nameof(BadInputFrames))]
    public async Task EachBadFrame_OfTheBadInputSuite_GetsWhatThePipelineStackGives(byte[] bytes)
    {
        var own = await RunAsync(Own, bytes);
        var managed = await RunAsync(Managed, bytes);

        Assert.That(own.ToString(), Is.EqualTo(managed.ToString()));
    }

    private static IEnumerable<TestCaseData> BadInputFrames()
    {
        yield return Case("unmasked", RawWebSocket.Frame(0x81, "hi"u8.ToArray(), masked: false));
        yield return Case("rsv1", RawWebSocket.Frame(0xC1, "hi"u8.ToArray()));
        yield return Case("rsv3", RawWebSocket.Frame(0x91, "hi"u8.ToArray()));
        yield return Case("opcode 3", RawWebSocket.Frame(0x83, "hi"u8.ToArray()));
        yield return Case("opcode B", RawWebSocket.Frame(0x8B, "hi"u8.ToArray()));
        yield return Case("fragmented ping", RawWebSocket.Frame(0x09, "hi"u8.ToArray()));
        yield return Case("long ping", RawWebSocket.Frame(0x89, new byte[126]));
        yield return Case("lone continuation", RawWebSocket.Frame(0x80, "hi"u8.ToArray()));
        yield return Case("text in a fragmented message", [.. RawWebSocket.Frame(0x01, "a"u8.ToArray()), .. RawWebSocket.Frame(0x81, "b"u8.ToArray())]);
        yield return Case("invalid utf-8", RawWebSocket.Frame(0x81, [0xC3, 0x28]));
        yield return Case("close reason invalid", RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000, [0xC3, 0x28])));
        yield return Case("close code 999", RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(999)));
        yield return Case("close code 1005", RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1005)));
        yield return Case("close code 5000", RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(5000)));
        yield return Case("1-byte close", RawWebSocket.Frame(0x88, [0x03]));
        yield return Case("64-bit top bit", RawWebSocket.Frame(0x82, [], declaredLength: 0x8000_0000_0000_0010));
        yield return Case("declared over the limit", RawWebSocket.Frame(0x82, [], declaredLength: 1UL << 40));
        yield return Case("fragments over the limit", [.. RawWebSocket.Frame(0x02, new byte[40 * 1024]), .. RawWebSocket.Frame(0x80, [], declaredLength: 40 * 1024)]);
        yield return Case("empty close", RawWebSocket.Frame(0x88, []));
        yield return Case("eof mid-frame", RawWebSocket.Frame(0x82, new byte[10])[..8]);

        static TestCaseData Case(string name, byte[] bytes) => new TestCaseData(bytes).SetName($"BadFrame_{name.Replace(' ', '_')}");
    }

    /// <summary>
    /// Seeded random sequences (fragmented messages, UTF-8 split anywhere, pings and pongs between fragments, empty frames)
    /// ending in a client close, an end of stream, or one bad frame. Against the pipeline's stack reading a byte at a time
    /// (so the guard sees each byte when ManagedWebSocket does): the same messages, the same bytes written back, the same
    /// end. Against that stack reading whole chunks, the guard judges frames ManagedWebSocket has not reached yet, so it
    /// may fail the connection before earlier messages are handed over: the close frame and the end are the same, and
    /// what the old stack delivers (messages, pongs) is a prefix of what ours delivers.
    /// </summary>
    [Test]
    public async Task SeededRandomFrameSequences_GiveTheSameOutcome_AsManagedWebSocketUnderTheGuard()
    {
        var mismatches = new List<string>();
        var chunkedEqual = 0;
        const int Seeds = 400;
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var bytes = RandomSequence(new Random(seed));
            var own = await RunAsync(Own, bytes);
            var trickled = await RunAsync(t => Managed(t, maxRead: 1), bytes);
            if (own.ToString() != trickled.ToString())
            {
                mismatches.Add($"seed {seed} (byte at a time):\n  own     {own}\n  managed {trickled}");
            }

            var chunked = await RunAsync(t => Managed(t, maxRead: int.MaxValue), bytes);
            chunkedEqual += own.ToString() == chunked.ToString() ? 1 : 0;
            if (own.End != chunked.End || own.Sent.LastOrDefault() != chunked.Sent.LastOrDefault()
                || !own.Messages.Take(chunked.Messages.Count).SequenceEqual(chunked.Messages)
                || !own.Sent.Take(chunked.Sent.Count - 1).SequenceEqual(chunked.Sent.Take(chunked.Sent.Count - 1)))
            {
                mismatches.Add($"seed {seed} (whole chunks):\n  own     {own}\n  managed {chunked}");
            }
        }

        Assert.That(mismatches, Is.Empty);
        Assert.That(chunkedEqual, Is.GreaterThan(Seeds * 3 / 4), "most sequences give exactly the same outcome even in whole chunks");
        TestContext.Out.WriteLine($"{chunkedEqual} of {Seeds} sequences exactly equal against whole-chunk reads");
    }

    private static byte[] RandomSequence(Random random)
    {
        var bytes = new List<byte>();
        var messages = random.Next(0, 5);
        for (var m = 0; m < messages; m++)
        {
            var text = random.Next(2) == 0;
            byte[] payload = text ? RandomText(random) : RandomBytes(random, random.Next(0, 300));
            var cuts = Cuts(random, payload.Length);
            for (var f = 0; f < cuts.Count - 1; f++)
            {
                var first = f == 0 ? (byte)(text ? 0x1 : 0x2) : (byte)0x0;
                var fin = f == cuts.Count - 2 ? (byte)0x80 : (byte)0;
                bytes.AddRange(RawWebSocket.Frame((byte)(first | fin), payload[cuts[f]..cuts[f + 1]]));
                if (random.Next(4) == 0)
                {
                    bytes.AddRange(RawWebSocket.Frame(random.Next(2) == 0 ? (byte)0x89 : (byte)0x8A, RandomBytes(random, random.Next(0, 20))));
                }
            }
        }

        switch (random.Next(4))
        {
            case 0:
                bytes.AddRange(RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload((ushort)random.Next(1000, 1004), RandomText(random)[..0])));
                break;
            case 1:
                break;
            default:
                bytes.AddRange(BadFrame(random));
                break;
        }

        return [.. bytes];
    }

    private static byte[] BadFrame(Random random) => random.Next(14) switch
    {
        0 => RawWebSocket.Frame(0x81, "x"u8.ToArray(), masked: false),
        1 => RawWebSocket.Frame((byte)(0x81 | (0x10 << random.Next(3))), "x"u8.ToArray()),
        2 => RawWebSocket.Frame((byte)(0x80 | random.Next(3, 8)), "x"u8.ToArray()),
        3 => RawWebSocket.Frame((byte)(0x80 | random.Next(0xB, 0x10)), "x"u8.ToArray()),
        4 => RawWebSocket.Frame(0x09, "x"u8.ToArray()),
        5 => RawWebSocket.Frame(0x89, new byte[126 + random.Next(10)]),
        6 => RawWebSocket.Frame(0x80, "x"u8.ToArray()),
        7 => [.. RawWebSocket.Frame(0x01, "a"u8.ToArray()), .. RawWebSocket.Frame(0x82, "b"u8.ToArray())],
        8 => RawWebSocket.Frame(0x81, [0x61, (byte)random.Next(0x80, 0x100), 0x62]),
        9 => RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload(1000, [0x6F, 0xE2, 0x82])),
        10 => RawWebSocket.Frame(0x88, RawWebSocket.ClosePayload((ushort)random.Next(0, 6000))),
        11 => RawWebSocket.Frame(0x88, [0x03]),
        12 => RawWebSocket.Frame(0x82, [], declaredLength: (ulong)(MaxMessageSize + 1 + random.Next(1000))),
        _ => RawWebSocket.Frame(0x82, RandomBytes(random, 40))[..random.Next(1, 20)],
    };

    private static List<int> Cuts(Random random, int length)
    {
        var cuts = new List<int> { 0 };
        var pieces = random.Next(1, 4);
        for (var p = 1; p < pieces; p++)
        {
            cuts.Add(random.Next(0, length + 1));
        }

        cuts.Add(length);
        cuts.Sort();
        return cuts;
    }

    private static byte[] RandomText(Random random)
    {
        string[] pieces = ["a", "hello ", "é", "€", "𝄞", " ", "ü", "z"];
        var text = new StringBuilder();
        var count = random.Next(0, 12);
        for (var i = 0; i < count; i++)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static PipeWebSocket Own(IDuplexPipe transport)
        => new(transport, null, MaxMessageSize, TimeSpan.Zero, Timeout.InfiniteTimeSpan, TimeProvider.System);

    private static WebSocket Managed(IDuplexPipe transport) => Managed(transport, int.MaxValue);

    private static WebSocket Managed(IDuplexPipe transport, int maxRead)
        => WebSocket.CreateFromStream(new ClientFrameGuardStream(new DuplexPipeStream(transport, maxRead), MaxMessageSize), new WebSocketCreationOptions { IsServer = true });

    /// <summary>Runs a session's receive loop (zero-byte reads between messages, a 4 KiB buffer within one) over the bytes.</summary>
    private static async Task<Outcome> RunAsync(Func<IDuplexPipe, WebSocket> create, byte[] bytes)
    {
        var pipes = new Pipes();
        var outcome = new Outcome();
        var socket = create(pipes.Server);
        await pipes.Client.WriteAsync(bytes);
        await pipes.Client.CompleteAsync();
        var buffer = new byte[4096];
        var message = new List<byte>();
        var type = WebSocketMessageType.Text;
        try
        {
            while (true)
            {
                var between = message.Count == 0;
                var result = await socket.ReceiveAsync(between ? Memory<byte>.Empty : buffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty, socket.CloseStatusDescription, CancellationToken.None);
                    outcome.End = $"close {(int?)socket.CloseStatus} '{socket.CloseStatusDescription}' {socket.State}";
                    break;
                }

                if (between && !result.EndOfMessage)
                {
                    message.Add(0);
                    continue;
                }

                if (between)
                {
                    outcome.Messages.Add($"{result.MessageType}:");
                    continue;
                }

                message.AddRange(buffer.AsSpan(0, result.Count).ToArray());
                type = result.MessageType;
                if (result.EndOfMessage)
                {
                    var payload = message.Skip(1).ToArray();
                    outcome.Messages.Add(type == WebSocketMessageType.Text ? $"Text:{Encoding.UTF8.GetString(payload)}" : $"Binary:{Convert.ToHexString(payload)}");
                    message.Clear();
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            outcome.End = $"failed {socket.State}";
        }

        socket.Dispose();
        outcome.Sent.AddRange(Frames(await pipes.ReadServerOutputAsync()));
        return outcome;
    }

    private static string Hex(string text) => Convert.ToHexString(Encoding.UTF8.GetBytes(text));

    /// <summary>The server's frames as "opcode:payload hex" (server frames are unmasked).</summary>
    private static List<string> Frames(byte[] bytes)
    {
        var frames = new List<string>();
        var at = 0;
        while (at + 2 <= bytes.Length)
        {
            var length = bytes[at + 1] & 0x7F;
            var header = 2;
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at + 2));
                header = 4;
            }

            frames.Add($"{bytes[at] & 0x0F:X}:{Convert.ToHexString(bytes, at + header, length)}");
            at += header + length;
        }

        return frames;
    }

    private sealed class Outcome
    {
        public List<string> Messages { get; } = [];

        public List<string> Sent { get; } = [];

        public string End { get; set; } = "";

        public override string ToString() => $"[{string.Join(", ", Messages)}] sent [{string.Join(", ", Sent)}] {End}";
    }

    /// <summary>A client and a server end over two real pipes.</summary>
    private sealed class Pipes
    {
        private readonly Pipe _toServer = new();
        private readonly Pipe _fromServer = new();

        public Pipes() => Server = new DuplexPipe(_toServer.Reader, _fromServer.Writer);

        public IDuplexPipe Server { get; }

        public PipeWriter Client => _toServer.Writer;

        /// <summary>Everything the server wrote and flushed until now.</summary>
        public async Task<byte[]> ReadServerOutputAsync()
        {
            await _fromServer.Writer.CompleteAsync();
            var all = new List<byte>();
            while (true)
            {
                var result = await _fromServer.Reader.ReadAsync();
                all.AddRange(result.Buffer.ToArray());
                _fromServer.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return [.. all];
                }
            }
        }

        /// <summary>The server's next whole frame (a small one), as "opcode:payload hex".</summary>
        public async Task<string> ReadServerFrameAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (true)
            {
                var result = await _fromServer.Reader.ReadAsync(timeout.Token);
                var bytes = result.Buffer.ToArray();
                if (bytes.Length >= 2 && bytes.Length >= 2 + (bytes[1] & 0x7F))
                {
                    var frameLength = 2 + (bytes[1] & 0x7F);
                    _fromServer.Reader.AdvanceTo(result.Buffer.GetPosition(frameLength));
                    return Frames(bytes[..frameLength]).Single();
                }

                _fromServer.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>The transport as a stream for ManagedWebSocket, as the fast path's TransportStream was.</summary>
    private sealed class DuplexPipeStream(IDuplexPipe transport, int maxRead) : Stream
    {
        private readonly Stream _input = transport.Input.AsStream();
        private readonly Stream _output = transport.Output.AsStream();

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => buffer.IsEmpty ? ValueTask.FromResult(0) : _input.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => _output.WriteAsync(buffer, offset, count, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override void Flush() => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
