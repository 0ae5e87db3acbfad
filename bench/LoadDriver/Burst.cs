using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace LoadDriver;

/// <summary>
/// One unpaced sender into a mirror instance (issue 25): it writes every message as fast as its socket takes them, and
/// every member (sender included) must get all of them, whole and in order. With <c>stalled</c>, one more member joins
/// and never reads: only it may be cut. Counts what arrived, what was reordered or split (a message that arrives as
/// several, or of another size), who was closed, and the server's peak RSS.
/// </summary>
internal static class Burst
{
    public sealed record Result(
        int Readers, int Messages, int PayloadSize, bool WithStalledMember, double Seconds, long Deliveries, double DeliveriesPerSecond,
        int MembersComplete, int Members, long Missing, long OutOfOrder, long Split, int Closed, string StalledOutcome, double PeakRssMiB,
        double ServerCpuPercent);

    public static async Task<Result> RunAsync(
        ServerProcess server, int readers, int messages, int payloadSize, bool withStalledMember, TimeSpan limit)
    {
        var members = new Member[readers + 1];
        var activity = new Activity();
        for (var i = 0; i < members.Length; i++)
        {
            var client = await RawClient.ConnectAsync(server.EndPoint, Sources.For(i), "/?mirror=burst", "lws-mirror-protocol", 256 * 1024, CancellationToken.None);
            members[i] = new Member(client, messages, payloadSize, activity);
        }

        var loops = members.Select(m => Task.Run(m.ReceiveLoopAsync)).ToArray();
        var sender = members[0];

        // Every member must be in the instance before the first counted message.
        var syncDeadline = Stopwatch.StartNew();
        while (members.Any(m => !m.Synced))
        {
            if (syncDeadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("not every member joined the mirror instance");
            }

            sender.Client.Socket.Send(sender.Client.BuildTextFrame("sync"u8));
            await Task.Delay(100);
        }

        RawClient? stalled = withStalledMember
            ? await RawClient.ConnectAsync(server.EndPoint, Sources.For(members.Length), "/?mirror=burst", "lws-mirror-protocol", 256 * 1024, CancellationToken.None)
            : null;
        await Task.Delay(300);
        foreach (var member in members)
        {
            member.Start();
        }

        using var done = new CancellationTokenSource();
        var peakRss = 0L;
        var sampling = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                peakRss = Math.Max(peakRss, server.RssBytes());
                try
                {
                    await Task.Delay(100, done.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        var cpu0 = server.CpuSeconds();
        var started = Stopwatch.GetTimestamp();
        var sending = Task.Factory.StartNew(() => sender.SendAll(), TaskCreationOptions.LongRunning);
        // Done when every member has all messages or its connection ended; or, where messages went missing (split,
        // dropped), when nothing has arrived for 2 s. The time counted ends at the last message received.
        var finished = Task.WhenAll(members.Select(m => m.Finished));
        activity.Touch();
        while (!finished.IsCompleted && Stopwatch.GetElapsedTime(started) < limit
            && !(sending.IsCompleted && Stopwatch.GetElapsedTime(activity.LastTicks) > TimeSpan.FromSeconds(2)))
        {
            await Task.WhenAny(finished, Task.Delay(100));
        }

        var seconds = (activity.LastTicks - started) / (double)Stopwatch.Frequency;
        var cpu = server.CpuSeconds() - cpu0;
        await done.CancelAsync();
        await sampling;

        var stalledOutcome = "none";
        if (stalled is not null)
        {
            // Read what the stalled member was sent: a close frame then the end of the connection means it was cut.
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var cut = await stalled.DrainUntilClosedAsync(drain.Token).WaitAsync(TimeSpan.FromSeconds(20)).ContinueWith(t => t.IsCompletedSuccessfully && t.Result);
            stalledOutcome = cut ? "closed by the server" : "not closed";
            stalled.Dispose();
        }

        foreach (var member in members)
        {
            member.Client.Dispose();
        }

        await Task.WhenAll(loops);
        await sending.ContinueWith(_ => { });
        var deliveries = members.Sum(m => (long)m.Received);
        return new Result(
            readers, messages, payloadSize, withStalledMember, seconds, deliveries, deliveries / seconds,
            members.Count(m => m.Received == messages && m.OutOfOrder == 0 && m.Split == 0), members.Length,
            members.Sum(m => (long)(messages - m.Received)), members.Sum(m => m.OutOfOrder), members.Sum(m => m.Split),
            members.Count(m => m.ClosedByServer), stalledOutcome, peakRss / 1048576.0, 100 * cpu / seconds);
    }

    /// <summary>When the last message reached any member.</summary>
    private sealed class Activity
    {
        private long _lastTicks;

        public long LastTicks => Volatile.Read(ref _lastTicks);

        public void Touch() => Volatile.Write(ref _lastTicks, Stopwatch.GetTimestamp());
    }

    private sealed class Member(RawClient client, int messages, int payloadSize, Activity activity)
    {
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly bool[] _seen = new bool[messages];
        private volatile bool _counting;
        private int _highest = -1;

        public RawClient Client { get; } = client;

        public bool Synced { get; private set; }

        /// <summary>Distinct messages received whole.</summary>
        public int Received { get; private set; }

        public long OutOfOrder { get; private set; }

        /// <summary>Messages that arrived cut (another size, unparseable) or twice.</summary>
        public long Split { get; private set; }

        public bool ClosedByServer { get; private set; }

        public Task Finished => _finished.Task;

        public void Start() => _counting = true;

        public async Task ReceiveLoopAsync()
        {
            ClosedByServer = await Client.ReceiveLoopAsync(OnMessage, CancellationToken.None);
            _finished.TrySetResult();
        }

        /// <summary>Writes every message, blocking while the socket's buffer is full (the TCP backpressure under test).</summary>
        public void SendAll()
        {
            var payload = new byte[payloadSize];
            try
            {
                for (var seq = 0; seq < messages; seq++)
                {
                    payload.AsSpan().Fill((byte)'x');
                    Encoding.ASCII.GetBytes(seq.ToString(CultureInfo.InvariantCulture) + ":", payload);
                    Client.Socket.Send(Client.BuildTextFrame(payload));
                }
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // The server closed the sender: counted by its receive loop.
            }
        }

        private bool OnMessage(ReadOnlyMemory<byte> message)
        {
            var span = message.Span;
            if (!_counting)
            {
                Synced |= span.SequenceEqual("sync"u8);
                return true;
            }

            if (span.SequenceEqual("sync"u8))
            {
                return true;
            }

            activity.Touch();
            var colon = span.IndexOf((byte)':');
            if (span.Length != payloadSize || colon < 1 || !int.TryParse(span[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                Split++;
                return true;
            }

            if (seq >= messages || _seen[seq])
            {
                Split++;
                return true;
            }

            // A message older than one already received arrived late; one that never arrives is missing, not reordered.
            if (seq < _highest)
            {
                OutOfOrder++;
            }

            _highest = Math.Max(_highest, seq);
            _seen[seq] = true;
            Received++;
            if (Received == messages)
            {
                _finished.TrySetResult();
            }

            return true;
        }
    }
}
