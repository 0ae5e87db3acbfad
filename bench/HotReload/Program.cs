// Hot-reload benchmark (issues 4 and 18). Usage:
//   dotnet run -c Release --project bench/HotReload -- [latencySamples=100] [reloads=1000]
// 1. "File landed -> new generation serving": copy the other build of a plugin into the watched plugins folder, then
//    probe (connect + echo, back to back) until the reply comes from the new build; at the default settings (quiet
//    period, then two looks a settle time apart that must agree and find a whole build) and at the old fixed 500 ms.
// 2. Memory after N reloads (driven directly, no watcher): RSS, managed heap and loaded assemblies before and after.
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

var samples = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var reloads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
var builds = new[] { "v1", "v2" }.Select(v => Path.Combine(AppContext.BaseDirectory, "test-plugins", v, "versioned")).ToArray();
var defaults = new LwsServerOptions();

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine("| quiet (ms) | settle (ms) | samples | landed -> serving median (ms) | p99 (ms) | max (ms) |");
Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
foreach (var (quiet, settle) in new[] { (defaults.PluginReloadDebounceMs, defaults.PluginReloadSettleMs), (500, defaults.PluginReloadSettleMs) })
{
    var latencies = await MeasureLatencyAsync(quiet, settle, samples);
    var label = quiet == defaults.PluginReloadDebounceMs ? $"{quiet} (default)" : $"{quiet}";
    Console.WriteLine($"| {label} | {settle} | {latencies.Count} | {Percentile(latencies, 0.5):F1} | {Percentile(latencies, 0.99):F1} | {latencies.Max():F1} |");
}

await MeasureMemoryAsync(reloads);
return 0;

async Task<List<double>> MeasureLatencyAsync(int quietMs, int settleMs, int count)
{
    using var folder = new TemporaryFolder();
    var plugin = Path.Combine(folder.Path, "versioned");
    CopyFolder(builds[0], plugin);
    await using var context = await StartAsync(folder.Path, watch: true, quietMs, settleMs);
    var uri = new Uri($"ws://{context.GetEndPoint("bench")}/");
    var latencies = new List<double>(count);
    for (var i = 1; i <= count; i++)
    {
        var expected = i % 2 == 1 ? "v2:" : "v1:";
        CopyFolder(builds[i % 2], plugin);
        var landed = Stopwatch.GetTimestamp();
        while (!(await EchoAsync(uri, "probe")).StartsWith(expected, StringComparison.Ordinal))
        {
        }

        latencies.Add(Stopwatch.GetElapsedTime(landed).TotalMilliseconds);
    }

    return latencies;
}

async Task MeasureMemoryAsync(int count)
{
    using var folder = new TemporaryFolder();
    var plugin = Path.Combine(folder.Path, "versioned");
    CopyFolder(builds[0], plugin);
    await using var context = await StartAsync(folder.Path, watch: false, defaults.PluginReloadDebounceMs, defaults.PluginReloadSettleMs);
    var uri = new Uri($"ws://{context.GetEndPoint("bench")}/");
    await EchoAsync(uri, "warm-up");
    var before = Measure();
    var started = Stopwatch.GetTimestamp();
    for (var i = 1; i <= count; i++)
    {
        CopyFolder(builds[i % 2], plugin);
        await context.ReloadPluginAsync(plugin);
        if (i % 100 == 0)
        {
            await EchoAsync(uri, "check");
        }
    }

    var elapsed = Stopwatch.GetElapsedTime(started);
    var after = Measure();
    Console.WriteLine();
    Console.WriteLine($"{count} reloads in {elapsed.TotalSeconds:F1} s ({elapsed.TotalMilliseconds / count:F2} ms each, including copying the files)");
    Console.WriteLine("| | RSS (MiB) | managed heap after GC (MiB) | loaded assemblies |");
    Console.WriteLine("| --- | ---: | ---: | ---: |");
    Console.WriteLine($"| before | {before.Rss:F1} | {before.Heap:F1} | {before.Assemblies} |");
    Console.WriteLine($"| after {count} reloads | {after.Rss:F1} | {after.Heap:F1} | {after.Assemblies} |");
}

async Task<LwsContext> StartAsync(string pluginsPath, bool watch, int quietMs, int settleMs)
{
    var context = new LwsContext(
        new LwsServerOptions
        {
            PluginsPath = pluginsPath,
            WatchPlugins = watch,
            PluginReloadDebounceMs = quietMs,
            PluginReloadSettleMs = settleMs,
            Vhosts = [new VhostOptions { Name = "bench", Port = 0, Protocols = [new ProtocolSelection("versioned-protocol")] }],
        },
        NullLoggerFactory.Instance,
        TimeProvider.System);
    await context.StartAsync(CancellationToken.None);
    return context;
}

static async Task<string> EchoAsync(Uri uri, string text)
{
    try
    {
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("versioned-protocol");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(uri, timeout.Token);
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[256];
        var result = await client.ReceiveAsync(buffer, timeout.Token);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }
    catch (WebSocketException)
    {
        return "";
    }
}

static (double Rss, double Heap, int Assemblies) Measure()
{
    for (var i = 0; i < 5; i++)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    var rssKiB = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
    return (double.Parse(rssKiB, CultureInfo.InvariantCulture) / 1024, GC.GetTotalMemory(true) / 1048576.0, AppDomain.CurrentDomain.GetAssemblies().Length);
}

static void CopyFolder(string source, string target)
{
    Directory.CreateDirectory(target);
    foreach (var file in Directory.GetFiles(source))
    {
        File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
    }
}

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

internal sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("lws-bench-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
