using System.Diagnostics;

namespace LoadDriver;

/// <summary>Idle capacity: K open WebSockets (mirror members that never send), the server's RSS from /proc.</summary>
internal static class Idle
{
    public sealed record Step(int Target, int Open, long RssBytes, double KiBPerConnection);

    public sealed record Result(long BaselineRssBytes, IReadOnlyList<Step> Steps, int Failed, int HeldAtEnd, int FinalTarget, double ConnectSeconds, double DriverCpuPercent);

    public static async Task<Result> RunAsync(ServerProcess server, IReadOnlyList<int> steps, TimeSpan settle)
    {
        // Warm-up: the accept, upgrade and close paths run once before the baseline is taken.
        var warm = await OpenAsync(server, 0, 200, []);
        foreach (var c in warm.Clients)
        {
            c.Dispose();
        }

        await Task.WhenAll(warm.Loops);
        await Task.Delay(settle);
        var baseline = server.RssBytes();
        _ = int.TryParse(Environment.GetEnvironmentVariable("LOAD_IDLE_STEP_PAUSE_SECONDS"), out var pause);
        await PauseAsync(server, "baseline", pause);
        var clients = new List<RawClient>();
        var loops = new List<Task>();
        var received = new int[steps[^1]];
        var failed = 0;
        var results = new List<Step>();
        var driverCpu0 = ProcCpu.Self();
        var connectTime = TimeSpan.Zero;
        foreach (var target in steps)
        {
            var watch = Stopwatch.StartNew();
            var opened = await OpenAsync(server, clients.Count, target - clients.Count, received);
            connectTime += watch.Elapsed;
            clients.AddRange(opened.Clients);
            loops.AddRange(opened.Loops);
            failed += opened.Failed;
            await Task.Delay(settle);
            var open = clients.Count - loops.Count(l => l.IsCompleted);
            var rss = server.RssBytes();
            results.Add(new Step(target, open, rss, (rss - baseline) / 1024.0 / Math.Max(open, 1)));
            Console.Error.WriteLine($"  idle {server.Name}: {open} open, RSS {rss / 1048576.0:F1} MiB");
            await PauseAsync(server, $"{open} open", pause);
        }

        var driverCpu = ProcCpu.Self() - driverCpu0;
        if (int.TryParse(Environment.GetEnvironmentVariable("LOAD_IDLE_HOLD_SECONDS"), out var hold))
        {
            // For inspecting the server while the connections are open (dotnet-gcdump, /proc/<pid>/smaps).
            Console.Error.WriteLine($"  idle {server.Name}: holding {hold} s, pid {server.Pid}");
            await Task.Delay(TimeSpan.FromSeconds(hold));
        }

        // Held: one message through the instance reaches every connection still open.
        clients[0].Socket.Send(clients[0].BuildTextFrame("held?"u8));
        var deadline = Stopwatch.StartNew();
        while (received.Count(r => r > 0) < clients.Count && deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(100);
        }

        var held = received.Count(r => r > 0);
        foreach (var c in clients)
        {
            c.Dispose();
        }

        await Task.WhenAll(loops);
        return new Result(baseline, results, failed, held, steps[^1], connectTime.TotalSeconds, 100 * driverCpu / Math.Max(connectTime.TotalSeconds, 1e-9));
    }

    private static async Task<(List<RawClient> Clients, List<Task> Loops, int Failed)> OpenAsync(ServerProcess server, int first, int count, int[] received)
    {
        var clients = new RawClient?[count];
        var failed = 0;
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                clients[i] = await RawClient.ConnectAsync(
                    server.EndPoint, Sources.For(first + i), "/?mirror=idle", "lws-mirror-protocol", 256, CancellationToken.None);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
            {
                if (Interlocked.Increment(ref failed) <= 3)
                {
                    Console.Error.WriteLine($"  idle {server.Name}: connect failed: {ex.Message}");
                }
            }
            finally
            {
                gate.Release();
            }
        }));

        var list = new List<RawClient>();
        var loops = new List<Task>();
        for (var i = 0; i < count; i++)
        {
            if (clients[i] is { } client)
            {
                var slot = first + i;
                list.Add(client);
                loops.Add(Task.Run(() => client.ReceiveLoopAsync(
                    _ =>
                    {
                        if (slot < received.Length)
                        {
                            Interlocked.Increment(ref received[slot]);
                        }

                        return true;
                    },
                    CancellationToken.None)));
            }
        }

        return (list, loops, failed);
    }

    /// <summary>For inspecting the server at each step (LOAD_IDLE_STEP_PAUSE_SECONDS): /proc/pid/status, dotnet-counters.</summary>
    private static async Task PauseAsync(ServerProcess server, string step, int seconds)
    {
        if (seconds > 0)
        {
            Console.Error.WriteLine($"  idle {server.Name}: pausing {seconds} s at {step}, pid {server.Pid}");
            await Task.Delay(TimeSpan.FromSeconds(seconds));
        }
    }
}
