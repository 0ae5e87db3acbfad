using System.Diagnostics;

namespace LoadDriver;

/// <summary>Connect, upgrade, close handshake, TCP close: cycles per second with a fixed number of concurrent workers.</summary>
internal static class Churn
{
    public sealed record Result(int Workers, double Seconds, long Cycles, double CyclesPerSecond, long Failed, double P50Ms, double P99Ms, double ServerCpuPercent, double DriverCpuPercent);

    public static async Task<Result> RunAsync(ServerProcess server, int workers, TimeSpan warmup, TimeSpan measure)
    {
        long next = 0;
        var stop = false;
        var measuring = false;
        var cycles = new long[workers];
        var failed = new long[workers];
        var histograms = Enumerable.Range(0, workers).Select(_ => new Histogram()).ToArray();
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            while (!Volatile.Read(ref stop))
            {
                var started = Stopwatch.GetTimestamp();
                var ok = false;
                try
                {
                    using var client = await RawClient.ConnectAsync(
                        server.EndPoint, Sources.For((int)(Interlocked.Increment(ref next) % 50000)), "/?mirror=churn", "lws-mirror-protocol", 1024, CancellationToken.None);
                    await client.SendCloseAsync();
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    ok = await client.DrainUntilClosedAsync(timeout.Token);
                }
                catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
                {
                    ok = false;
                }

                if (Volatile.Read(ref measuring))
                {
                    if (ok)
                    {
                        cycles[w]++;
                        histograms[w].RecordMicroseconds(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                    }
                    else
                    {
                        failed[w]++;
                    }
                }
            }
        })).ToArray();

        await Task.Delay(warmup);
        var serverCpu0 = server.CpuSeconds();
        var driverCpu0 = ProcCpu.Self();
        var t0 = Stopwatch.GetTimestamp();
        Volatile.Write(ref measuring, true);
        await Task.Delay(measure);
        Volatile.Write(ref measuring, false);
        var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var serverCpu = server.CpuSeconds() - serverCpu0;
        var driverCpu = ProcCpu.Self() - driverCpu0;
        Volatile.Write(ref stop, true);
        await Task.WhenAll(tasks);
        var histogram = new Histogram();
        foreach (var h in histograms)
        {
            histogram.Add(h);
        }

        return new Result(
            workers, seconds, cycles.Sum(), cycles.Sum() / seconds, failed.Sum(), histogram.Quantile(0.5) / 1000, histogram.Quantile(0.99) / 1000,
            100 * serverCpu / seconds, 100 * driverCpu / seconds);
    }
}
