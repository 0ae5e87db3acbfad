// Listener scale benchmark (issue 20): what a listener costs the real server, measured through its admin API.
//   1. `cycles` create/destroy cycles of a port-0 vhost (a new listener each), with no pause: failures and create time.
//   2. `ownPorts` vhosts on their own ports at once: threads, descriptors and RSS added per listener; then all destroyed,
//      and after the destroy delay the process's threads and descriptors are compared with their start values.
// Throughout, a sibling vhost streams dumb-increment (every 50 ms) to one client: the largest gap between its messages.
// Usage: bench/ListenerScale/run.sh [cycles=1000] [ownPorts=200]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

if (args is ["--kestrel-per-listener", var countText])
{
    return await PerListenerServers.RunAsync(int.Parse(countText, CultureInfo.InvariantCulture));
}

var server = args.Length > 0 ? args[0] : throw new ArgumentException("usage: ListenerScale <server binary> [cycles] [ownPorts] | --kestrel-per-listener <count>");
var cycles = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
var ownPorts = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
const int DestroyDelayMs = 5000;
const string Token = "listener-scale-bench-token";

var siblingPort = FreePort();
var adminPort = FreePort();
var config = Path.Combine(Path.GetTempPath(), $"listener-scale-{Environment.ProcessId}.json");
File.WriteAllText(config, $$"""
{
  "destroyDelayMs": {{DestroyDelayMs}},
  "admin": { "enabled": true, "address": "127.0.0.1", "port": {{adminPort}}, "token": "{{Token}}" },
  "vhosts": [ { "name": "sibling", "address": "127.0.0.1", "port": {{siblingPort}}, "protocols": [ "dumb-increment-protocol" ] } ]
}
""");

var info = new ProcessStartInfo(server, $"-c {config} -d Warning") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
using var process = Process.Start(info)!;
process.OutputDataReceived += (_, e) => Forward(e.Data);
process.ErrorDataReceived += (_, e) => Forward(e.Data);
process.BeginOutputReadLine();
process.BeginErrorReadLine();
try
{
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/"), Timeout = TimeSpan.FromSeconds(30) };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    await WaitForAsync(async () => (await http.GetAsync("vhosts")).IsSuccessStatusCode, TimeSpan.FromSeconds(30));

    using var client = new ClientWebSocket();
    client.Options.AddSubProtocol("dumb-increment-protocol");
    await client.ConnectAsync(new Uri($"ws://127.0.0.1:{siblingPort}/"), CancellationToken.None);
    var arrivals = new List<long>();
    var reader = Task.Run(async () =>
    {
        var buffer = new byte[64];
        while (client.State == WebSocketState.Open)
        {
            var result = await client.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            lock (arrivals)
            {
                arrivals.Add(Stopwatch.GetTimestamp());
            }
        }
    });

    await Task.Delay(1000);
    var start = Sample();
    Console.WriteLine($"start: {start}");

    // 1. Create/destroy cycles with no pause.
    var failures = new List<string>();
    var createMs = new List<double>(cycles);
    var churnStarted = Stopwatch.GetTimestamp();
    for (var i = 0; i < cycles; i++)
    {
        var name = $"churn{i}";
        var began = Stopwatch.GetTimestamp();
        using var created = await http.PostAsync("vhosts", Json($$"""{ "name": "{{name}}", "address": "127.0.0.1", "port": 0, "protocols": [ "dumb-increment-protocol" ] }"""));
        createMs.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            failures.Add($"cycle {i}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            continue;
        }

        using var deleted = await http.DeleteAsync($"vhosts/{name}");
        if (deleted.StatusCode != HttpStatusCode.NoContent)
        {
            failures.Add($"cycle {i}: destroy {(int)deleted.StatusCode}");
        }
    }

    var churnSeconds = Stopwatch.GetElapsedTime(churnStarted).TotalSeconds;
    var peakAfterChurn = Sample();
    await Task.Delay(DestroyDelayMs + 2000);
    var afterChurn = Sample();

    // 2. Many listeners at once.
    var before = Sample();
    var ownCreateMs = new List<double>(ownPorts);
    for (var i = 0; i < ownPorts; i++)
    {
        var began = Stopwatch.GetTimestamp();
        using var created = await http.PostAsync("vhosts", Json($$"""{ "name": "own{{i}}", "address": "127.0.0.1", "port": 0, "protocols": [ "dumb-increment-protocol" ] }"""));
        ownCreateMs.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            failures.Add($"own {i}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }
    }

    await Task.Delay(1000);
    var withOwn = Sample();
    for (var i = 0; i < ownPorts; i++)
    {
        using var deleted = await http.DeleteAsync($"vhosts/own{i}");
    }

    await Task.Delay(DestroyDelayMs + 3000);
    var end = Sample();

    List<long> stream;
    lock (arrivals)
    {
        stream = [.. arrivals];
    }

    var gaps = stream.Zip(stream.Skip(1)).Select(p => Stopwatch.GetElapsedTime(p.First, p.Second).TotalMilliseconds).ToList();
    gaps.Sort();
    createMs.Sort();
    ownCreateMs.Sort();

    Console.WriteLine();
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Trim()}");
    Console.WriteLine($"| measure | value |");
    Console.WriteLine($"| --- | --- |");
    Console.WriteLine($"| create/destroy cycles (port 0, no pause) | {cycles - failures.Count(f => f.StartsWith("cycle", StringComparison.Ordinal))} of {cycles} succeeded in {churnSeconds:F1} s |");
    Console.WriteLine($"| create time median / p99 / max (ms) | {P(createMs, 0.5):F2} / {P(createMs, 0.99):F2} / {createMs.LastOrDefault():F2} |");
    Console.WriteLine($"| threads start / right after the cycles / after the destroy delay | {start.Threads} / {peakAfterChurn.Threads} / {afterChurn.Threads} |");
    Console.WriteLine($"| descriptors start / right after the cycles / after the destroy delay | {start.Fds} / {peakAfterChurn.Fds} / {afterChurn.Fds} |");
    Console.WriteLine($"| {ownPorts} own-port vhosts: threads before / with them / after destroy | {before.Threads} / {withOwn.Threads} (+{withOwn.Threads - before.Threads}) / {end.Threads} |");
    Console.WriteLine($"| {ownPorts} own-port vhosts: descriptors before / with them / after destroy | {before.Fds} / {withOwn.Fds} / {end.Fds} |");
    Console.WriteLine($"| {ownPorts} own-port vhosts: RSS before / with them (per listener) / after | {before.RssKiB / 1024.0:F1} / {withOwn.RssKiB / 1024.0:F1} MiB ({(withOwn.RssKiB - before.RssKiB) / (double)ownPorts:F0} KiB) / {end.RssKiB / 1024.0:F1} MiB |");
    Console.WriteLine($"| own-port create median / p99 / max (ms) | {P(ownCreateMs, 0.5):F2} / {P(ownCreateMs, 0.99):F2} / {ownCreateMs.LastOrDefault():F2} |");
    Console.WriteLine($"| sibling stream: messages, interval median / max (ms, nominal 50) | {stream.Count}, {P(gaps, 0.5):F1} / {gaps.LastOrDefault():F1} |");
    foreach (var failure in failures.Take(5))
    {
        Console.WriteLine($"failure: {failure}");
    }

    Console.WriteLine($"failures: {failures.Count}");
    await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
    return failures.Count == 0 ? 0 : 1;
}
finally
{
    if (!process.HasExited)
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    File.Delete(config);
}

(int Threads, int Fds, long RssKiB) Sample()
{
    var status = File.ReadAllLines($"/proc/{process.Id}/status");
    int threads = int.Parse(status.First(l => l.StartsWith("Threads:", StringComparison.Ordinal))[8..].Trim(), CultureInfo.InvariantCulture);
    long rss = long.Parse(status.First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    return (threads, Directory.GetFiles($"/proc/{process.Id}/fd").Length, rss);
}

static void Forward(string? line)
{
    if (line is not null)
    {
        Console.Error.WriteLine("server: " + line);
    }
}

static double P(List<double> sorted, double q) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];

static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

static int FreePort()
{
    using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    return ((IPEndPoint)socket.LocalEndPoint!).Port;
}

static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout)
{
    var deadline = Stopwatch.StartNew();
    while (true)
    {
        try
        {
            if (await condition())
            {
                return;
            }
        }
        catch (HttpRequestException) when (deadline.Elapsed < timeout)
        {
        }

        if (deadline.Elapsed > timeout)
        {
            throw new TimeoutException("the server's admin API did not answer");
        }

        await Task.Delay(100);
    }
}
