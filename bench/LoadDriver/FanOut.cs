using System.Diagnostics;
using System.Net;

namespace LoadDriver;

/// <summary>Mirror fan-out: C clients in one <c>?mirror=</c> instance, S of them sending with a bounded window.</summary>
internal static class FanOut
{
    private const int SyncSender = 0xFFFF;

    public sealed record Result(
        int Clients, int Senders, int Window, double Seconds, long Deliveries, double DeliveriesPerSecond, double P50Us, double P99Us, double MaxUs,
        long Sent, long Lost, long OutOfOrder, int Disconnected, double ServerCpuPercent, double DriverCpuPercent);

    public static async Task<Result> RunAsync(
        ServerProcess server, int clients, int senders, int window, int payloadSize, TimeSpan warmup, TimeSpan measure)
    {
        senders = Math.Min(senders, clients);
        var run = new Run(senders, window, payloadSize);
        var members = new Member[clients];
        using (var gate = new SemaphoreSlim(50))
        {
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var client = await RawClient.ConnectAsync(
                        server.EndPoint, Sources.For(i), "/?mirror=fan", "lws-mirror-protocol", 64 * 1024, CancellationToken.None);
                    members[i] = new Member(run, client, i, i < senders);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var loops = members.Select(m => Task.Run(m.ReceiveLoopAsync)).ToArray();

        // Every member must have joined before the first counted message: wait until all have seen a sync message.
        var syncDeadline = Stopwatch.StartNew();
        while (Volatile.Read(ref run.Synced) < clients)
        {
            if (syncDeadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"only {run.Synced} of {clients} clients joined the mirror instance");
            }

            members[0].SendSync();
            await Task.Delay(100);
        }

        await Task.Delay(200);
        run.Phase = Phase.Warmup;
        foreach (var sender in members.Take(senders))
        {
            sender.StartSending();
        }

        await Task.Delay(warmup);
        var serverCpu0 = server.CpuSeconds();
        var driverCpu0 = ProcCpu.Self();
        var t0 = Stopwatch.GetTimestamp();
        run.Phase = Phase.Measure;
        await Task.Delay(measure);
        run.Phase = Phase.Stopping;
        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var serverCpu = server.CpuSeconds() - serverCpu0;
        var driverCpu = ProcCpu.Self() - driverCpu0;

        // Let every sender's last messages come back (nothing new is sent now), then count what never arrived.
        var drain = Stopwatch.StartNew();
        while (members.Take(senders).Any(m => Volatile.Read(ref m.Outstanding) > 0) && drain.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        await Task.Delay(300);
        var sent = new long[senders];
        for (var s = 0; s < senders; s++)
        {
            sent[s] = members[s].NextSeq;
        }

        long lost = 0, outOfOrder = 0, deliveries = 0;
        var histogram = new Histogram();
        var disconnected = 0;
        foreach (var member in members)
        {
            for (var s = 0; s < senders; s++)
            {
                lost += Math.Max(0, sent[s] - member.ReceivedFrom[s]);
            }

            outOfOrder += member.OutOfOrder;
            deliveries += member.DeliveriesInWindow;
            histogram.Add(member.Latency);
            disconnected += member.EndedEarly ? 1 : 0;
            member.Client.Dispose();
        }

        await Task.WhenAll(loops);
        return new Result(
            clients, senders, window, seconds, deliveries, deliveries / seconds, histogram.Quantile(0.5), histogram.Quantile(0.99), histogram.Quantile(1.0),
            sent.Sum(), lost, outOfOrder, disconnected, 100 * serverCpu / seconds, 100 * driverCpu / seconds);
    }

    private enum Phase
    {
        Sync,
        Warmup,
        Measure,
        Stopping,
    }

    private sealed class Run(int senders, int window, int payloadSize)
    {
        public readonly int Senders = senders;
        public readonly int Window = window;
        public readonly int PayloadSize = payloadSize;
        public int Synced;
        public volatile Phase Phase;
    }

    private sealed class Member(Run run, RawClient client, int index, bool isSender)
    {
        private readonly byte[] _payload = new byte[run.PayloadSize];
        private readonly Lock _sendLock = new();
        private bool _synced;

        public readonly RawClient Client = client;
        public readonly long[] ReceivedFrom = new long[run.Senders];
        public readonly Histogram Latency = new();
        public int Outstanding;
        public long NextSeq;
        public long OutOfOrder;
        public long DeliveriesInWindow;
        public bool EndedEarly;

        public async Task ReceiveLoopAsync()
        {
            await Client.ReceiveLoopAsync(OnMessage, CancellationToken.None);
            EndedEarly = run.Phase != Phase.Stopping;
        }

        public void SendSync()
        {
            lock (_sendLock)
            {
                Payload.Write(_payload, SyncSender, 0, Stopwatch.GetTimestamp());
                Client.Socket.Send(Frame(_payload));
            }
        }

        public void StartSending()
        {
            for (var i = 0; i < run.Window; i++)
            {
                SendNext();
            }
        }

        private void SendNext()
        {
            lock (_sendLock)
            {
                Interlocked.Increment(ref Outstanding);
                Payload.Write(_payload, index, NextSeq++, Stopwatch.GetTimestamp());
                Client.Socket.Send(Frame(_payload));
            }
        }

        private ReadOnlySpan<byte> Frame(ReadOnlySpan<byte> payload) => Client.BuildTextFrame(payload);

        private bool OnMessage(ReadOnlyMemory<byte> message)
        {
            var now = Stopwatch.GetTimestamp();
            if (!Payload.TryRead(message.Span, out var sender, out var seq, out var sentAt))
            {
                return true;
            }

            if (sender == SyncSender)
            {
                if (!_synced)
                {
                    _synced = true;
                    Interlocked.Increment(ref run.Synced);
                }

                return true;
            }

            if (sender >= run.Senders)
            {
                return true;
            }

            if (seq != ReceivedFrom[sender])
            {
                OutOfOrder++;
            }

            ReceivedFrom[sender]++;
            var phase = run.Phase;
            if (phase == Phase.Measure)
            {
                DeliveriesInWindow++;
                Latency.RecordMicroseconds(Stopwatch.GetElapsedTime(sentAt, now).TotalMicroseconds);
            }

            if (isSender && sender == index)
            {
                Interlocked.Decrement(ref Outstanding);
                if (phase != Phase.Stopping)
                {
                    SendNext();
                }
            }

            return true;
        }
    }
}

/// <summary>The text payload: sender (4 hex), seq (8 hex), send timestamp (16 hex), padded with 'x'.</summary>
internal static class Payload
{
    public const int MinSize = 31;

    public static void Write(Span<byte> buffer, int sender, long seq, long timestamp)
    {
        Hex(buffer[..4], (ulong)sender);
        buffer[4] = (byte)' ';
        Hex(buffer.Slice(5, 8), (ulong)seq);
        buffer[13] = (byte)' ';
        Hex(buffer.Slice(14, 16), (ulong)timestamp);
        buffer[30] = (byte)' ';
        buffer[31..].Fill((byte)'x');
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out int sender, out long seq, out long timestamp)
    {
        sender = 0;
        seq = 0;
        timestamp = 0;
        if (payload.Length < MinSize)
        {
            return false;
        }

        sender = (int)Parse(payload[..4]);
        seq = (long)Parse(payload.Slice(5, 8));
        timestamp = (long)Parse(payload.Slice(14, 16));
        return true;
    }

    private static void Hex(Span<byte> into, ulong value)
    {
        for (var i = into.Length - 1; i >= 0; i--)
        {
            into[i] = (byte)"0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }

    private static ulong Parse(ReadOnlySpan<byte> hex)
    {
        ulong value = 0;
        foreach (var c in hex)
        {
            value = (value << 4) | (uint)(c <= '9' ? c - '0' : c - 'a' + 10);
        }

        return value;
    }
}

/// <summary>Source addresses on 127/8 spread over many connections, so no single address runs out of ports.</summary>
internal static class Sources
{
    public static IPAddress For(int i) => new([127, 0, (byte)(1 + (i / 250 % 200)), (byte)(2 + (i % 250))]);
}
