using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace LoadDriver;

/// <summary>Static file requests/s with Debian's wrk (its CPU from getrusage of the finished child).</summary>
internal static partial class Http
{
    public sealed record Result(string Path, int Connections, double RequestsPerSecond, string P99, long Non2xx, double ServerCpuPercent, double WrkCpuPercent);

    public static async Task<Result> RunAsync(ServerProcess server, string path, int connections, TimeSpan warmup, TimeSpan measure)
    {
        var url = $"http://{server.EndPoint}{path}";
        await WrkAsync(url, connections, warmup);
        var serverCpu0 = server.CpuSeconds();
        var children0 = ChildrenCpu();
        var watch = Stopwatch.StartNew();
        var output = await WrkAsync(url, connections, measure);
        var seconds = watch.Elapsed.TotalSeconds;
        var serverCpu = server.CpuSeconds() - serverCpu0;
        var wrkCpu = ChildrenCpu() - children0;
        var rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var p99 = P99().Match(output) is { Success: true } m ? m.Groups[1].Value : "?";
        var non2xx = Non2xx().Match(output) is { Success: true } n ? long.Parse(n.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return new Result(path, connections, rps, p99, non2xx, 100 * serverCpu / seconds, 100 * wrkCpu / seconds);
    }

    private static async Task<string> WrkAsync(string url, int connections, TimeSpan duration)
    {
        var info = new ProcessStartInfo("wrk", $"-t1 -c{connections} -d{(int)duration.TotalSeconds}s --latency {url}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var wrk = Process.Start(info)!;
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        return output;
    }

    private static double ChildrenCpu()
    {
        var usage = new long[18];
        _ = GetRusage(-1 /* RUSAGE_CHILDREN */, usage);
        return usage[0] + (usage[1] / 1e6) + usage[2] + (usage[3] / 1e6);
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, [Out] long[] usage);

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"99%\s+(\S+)")]
    private static partial Regex P99();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();
}
