// Load benchmark (issue 12): the same scenarios against lws's libwebsockets-test-server and our server, each started
// fresh in its own process on 127.0.0.1 for each scenario, with a table of ratios at the end. Run it through
// bench/load/run.sh (which builds, installs lws and wrk, and raises the open-file limit). Options:
//   --ours <path to lws-server>  --scenarios fanout,idle,churn,http  --fanout-clients 10,100,500  --fanout-seconds 8
//   --senders 10 --window 8 --payload 64  --idle 10000,19000 (also for idle-tls)  --churn-seconds 8 --churn-warmup 15 --churn-workers 16  --http-seconds 5
//   --out <markdown file>
// Fan-out under pressure (issue 25): --scenarios burst,stall --burst-readers 20 --burst-messages 10000 --stall-messages 10000
// Exporter cost (issue 22): --servers ours --ours-metrics off|on (our server from a config file, with or without metricsPath)
// Soak (issue 7, bench/soak/run.sh): --scenarios soak --soak-minutes 10 --sample-seconds 30 --soak-members 50
//   --soak-senders 2 --soak-rate 200 --soak-churn 4
using System.Globalization;
using System.Text;
using LoadDriver;

var options = Options.Parse(args);
var started = DateTimeOffset.Now;
var load0 = File.ReadAllText("/proc/loadavg").Trim();
var report = new StringBuilder();
void Line(string text = "")
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

if (options.Scenarios.Contains("soak"))
{
    return await RunSoakAsync(options, args, started, load0);
}

var fanOut = new List<(FanOut.Result Lws, FanOut.Result Ours)>();
var idle = new List<(Idle.Result Lws, Idle.Result Ours)>();
var churn = new List<(Churn.Result Lws, Churn.Result Ours)>();
var http = new List<(Http.Result Lws, Http.Result Ours)>();
var bursts = new List<(Burst.Result Lws, Burst.Result Ours)>();

var tls = false;
async Task<T> OnFresh<T>(ServerKind kind, Func<ServerProcess, Task<T>> scenario)
{
    await using var server = await ServerProcess.StartAsync(kind, options.Ours, options.ResourcePath, options.OursMetrics, tls);
    await Task.Delay(500);
    var result = await scenario(server);
    if (server.HasExited)
    {
        throw new InvalidOperationException($"{server.Name} died during the scenario");
    }

    return result;
}

async Task<(T Lws, T Ours)> Both<T>(string label, Func<ServerProcess, Task<T>> scenario)
{
    Console.Error.WriteLine($"{DateTimeOffset.Now:HH:mm:ss} {label}: lws, load {File.ReadAllText("/proc/loadavg").Trim()}");
    // --servers ours: a quick check of our side only while tuning (the lws column then repeats ours; not for RESULTS.md).
    var ours0 = options.OursOnly ? await OnFresh(ServerKind.Ours, scenario) : default;
    var lws = options.OursOnly ? ours0! : await OnFresh(ServerKind.Lws, scenario);
    Console.Error.WriteLine($"{DateTimeOffset.Now:HH:mm:ss} {label}: ours");
    var ours = options.OursOnly ? lws : await OnFresh(ServerKind.Ours, scenario);
    return (lws, ours);
}

if (options.Scenarios.Contains("fanout"))
{
    foreach (var clients in options.FanOutClients)
    {
        fanOut.Add(await Both($"fan-out {clients}", s => FanOut.RunAsync(
            s, clients, options.Senders, options.Window, options.Payload, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(options.FanOutSeconds))));
    }
}

if (options.Scenarios.Contains("idle"))
{
    idle.Add(await Both("idle", s => Idle.RunAsync(s, options.IdleSteps, TimeSpan.FromSeconds(3))));
}

// The same idle members over TLS (both servers with -s: lws its packaged test certificate, ours a self-signed one).
var tlsIdle = new List<(Idle.Result Lws, Idle.Result Ours)>();
if (options.Scenarios.Contains("idle-tls"))
{
    tls = true;
    tlsIdle.Add(await Both("idle-tls", s => TlsIdle.RunAsync(s, options.IdleSteps, TimeSpan.FromSeconds(3))));
    tls = false;
}

if (options.Scenarios.Contains("churn"))
{
    churn.Add(await Both("churn", s => Churn.RunAsync(s, options.ChurnWorkers, TimeSpan.FromSeconds(options.ChurnWarmupSeconds), TimeSpan.FromSeconds(options.ChurnSeconds))));
}

if (options.Scenarios.Contains("http"))
{
    http.Add(await Both("http", s => Http.RunAsync(s, "/test.html", 32, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(options.HttpSeconds))));
}

// Issue 25: one unpaced sender, 20 readers; then 1 KiB messages (10 MB) with one more member that never reads.
if (options.Scenarios.Contains("burst"))
{
    bursts.Add(await Both("burst", s => Burst.RunAsync(s, options.BurstReaders, options.BurstMessages, 64, withStalledMember: false, TimeSpan.FromSeconds(120))));
}

if (options.Scenarios.Contains("stall"))
{
    bursts.Add(await Both("stall", s => Burst.RunAsync(s, options.BurstReaders, options.StallMessages, 1024, withStalledMember: true, TimeSpan.FromSeconds(180))));
}

var load1 = File.ReadAllText("/proc/loadavg").Trim();
Line($"Run {started:yyyy-MM-dd HH:mm} ({(DateTimeOffset.Now - started).TotalMinutes:F1} min), {Environment.ProcessorCount} CPUs, .NET {Environment.Version}; "
    + $"load average before: {load0[..14]}, after: {load1[..14]}");
Line($"Command line: {string.Join(' ', args)}");
Line();
if (fanOut.Count > 0)
{
    Line($"### Mirror fan-out ({options.Senders} senders, window {options.Window} per sender, {options.Payload}-byte text, {options.FanOutSeconds} s measured after 2 s warm-up)");
    Line();
    Line("| clients | server | deliveries/s | p50 ms | p99 ms | max ms | sent | lost | out of order | dropped conns | server CPU | driver CPU |");
    Line("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (l, o) in fanOut)
    {
        foreach (var (name, r) in new[] { ("lws", l), ("ours", o) })
        {
            Line($"| {r.Clients} | {name} | {r.DeliveriesPerSecond:N0} | {r.P50Us / 1000:F2} | {r.P99Us / 1000:F2} | {r.MaxUs / 1000:F1} | {r.Sent:N0} | {r.Lost:N0} | {r.OutOfOrder:N0} | {r.Disconnected} | {r.ServerCpuPercent:F0} % | {r.DriverCpuPercent:F0} % |");
        }
    }

    Line();
}

if (bursts.Count > 0)
{
    Line($"### Burst: one sender writes {options.BurstMessages:N0} messages (with the stalled member: {options.StallMessages:N0}) unpaced into a mirror instance of {options.BurstReaders} readers (+ the sender; the stalled member is one more that never reads, 64 KiB kernel receive buffer)");
    Line();
    Line("| payload | stalled member | server | deliveries/s | members complete (all, whole, in order) | missing | out of order | split | closed by server | stalled member | longest gap at a reader ms | peak RSS MiB | server CPU |");
    Line("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |");
    foreach (var (l, o) in bursts)
    {
        foreach (var (name, r) in new[] { ("lws", l), ("ours", o) })
        {
            Line($"| {r.PayloadSize} | {(r.WithStalledMember ? "yes" : "no")} | {name} | {r.DeliveriesPerSecond:N0} | {r.MembersComplete} of {r.Members} | {r.Missing:N0} | {r.OutOfOrder:N0} | {r.Split:N0} | {r.Closed} | {r.StalledOutcome} | {r.MaxGapMs:F0} | {r.PeakRssMiB:F1} | {r.ServerCpuPercent:F0} % |");
        }
    }

    Line();
}

if (idle.Count > 0)
{
    Line("### Idle connections (mirror members that never send; RSS from /proc after 3 s settle, minus the RSS after warm-up)");
    Line();
    Line("| server | baseline RSS MiB | " + string.Join(" | ", options.IdleSteps.Select(s => $"open at {s:N0} | RSS MiB | KiB/conn")) + " | held (one broadcast reached) | failed connects | driver CPU |");
    Line("| --- | ---: | " + string.Join(" | ", options.IdleSteps.Select(_ => "---: | ---: | ---:")) + " | ---: | ---: | ---: |");
    foreach (var (l, o) in idle)
    {
        foreach (var (name, r) in new[] { ("lws", l), ("ours", o) })
        {
            Line($"| {name} | {r.BaselineRssBytes / 1048576.0:F1} | " + string.Join(" | ", r.Steps.Select(s => $"{s.Open:N0} | {s.RssBytes / 1048576.0:F1} | {s.KiBPerConnection:F2}"))
                + $" | {r.HeldAtEnd:N0} of {r.FinalTarget:N0} | {r.Failed} | {r.DriverCpuPercent:F0} % |");
        }
    }

    Line();
}

if (tlsIdle.Count > 0)
{
    Line("### Idle connections over TLS (wss://, the same members; RSS after 3 s settle, minus the RSS after warm-up)");
    Line();
    Line("| server | baseline RSS MiB | " + string.Join(" | ", options.IdleSteps.Select(s => $"open at {s:N0} | RSS MiB | KiB/conn")) + " | held (one broadcast reached) | failed connects | driver CPU |");
    Line("| --- | ---: | " + string.Join(" | ", options.IdleSteps.Select(_ => "---: | ---: | ---:")) + " | ---: | ---: | ---: |");
    foreach (var (l, o) in tlsIdle)
    {
        foreach (var (name, r) in new[] { ("lws", l), ("ours", o) })
        {
            Line($"| {name} | {r.BaselineRssBytes / 1048576.0:F1} | " + string.Join(" | ", r.Steps.Select(s => $"{s.Open:N0} | {s.RssBytes / 1048576.0:F1} | {s.KiBPerConnection:F2}"))
                + $" | {r.HeldAtEnd:N0} of {r.FinalTarget:N0} | {r.Failed} | {r.DriverCpuPercent:F0} % |");
        }
    }

    Line();
}

if (churn.Count > 0)
{
    Line($"### Churn (connect, upgrade, close handshake, TCP close; {options.ChurnWorkers} concurrent workers, {options.ChurnSeconds} s measured after {options.ChurnWarmupSeconds} s warm-up)");
    Line();
    Line("| server | cycles/s | p50 ms | p99 ms | failed | server CPU | driver CPU |");
    Line("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (l, o) in churn)
    {
        foreach (var (name, r) in new[] { ("lws", l), ("ours", o) })
        {
            Line($"| {name} | {r.CyclesPerSecond:N0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.Failed} | {r.ServerCpuPercent:F0} % | {r.DriverCpuPercent:F0} % |");
        }
    }

    Line();
}

if (http.Count > 0)
{
    Line($"### HTTP static file (wrk -t1 -c32, /test.html of libwebsockets-test-server-common, {options.HttpSeconds} s after 2 s warm-up)");
    Line();
    Line("| server | requests/s | p99 | non-2xx | server CPU | wrk CPU |");
    Line("| --- | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (l, o) in http)
    {
        foreach (var (name, r) in new[] { ("lws", l), ("ours", o) })
        {
            Line($"| {name} | {r.RequestsPerSecond:N0} | {r.P99} | {r.Non2xx} | {r.ServerCpuPercent:F0} % | {r.WrkCpuPercent:F0} % |");
        }
    }

    Line();
}

Line("### Ratios (ours / lws) and targets");
Line();
Line("| scenario | lws | ours | ratio | target | met |");
Line("| --- | ---: | ---: | ---: | --- | --- |");
foreach (var (l, o) in fanOut)
{
    var ratio = o.DeliveriesPerSecond / l.DeliveriesPerSecond;
    var needs = o.Clients >= 100;
    Line($"| fan-out {o.Clients} clients, deliveries/s | {l.DeliveriesPerSecond:N0} | {o.DeliveriesPerSecond:N0} | {ratio:F2}x | {(needs ? ">= 1.5x" : "(none)")} | {(needs ? Met(ratio >= 1.5) : "-")} |");
    Line($"| fan-out {o.Clients} clients, p99 latency ms | {l.P99Us / 1000:F2} | {o.P99Us / 1000:F2} | {o.P99Us / l.P99Us:F2}x | {(needs ? "<= 1x" : "(none)")} | {(needs ? Met(o.P99Us <= l.P99Us) : "-")} |");
    Line($"| fan-out {o.Clients} clients, lost messages | {l.Lost:N0} | {o.Lost:N0} | | 0 | {Met(o.Lost == 0)} |");
}

foreach (var (l, o) in idle)
{
    for (var i = 0; i < o.Steps.Count; i++)
    {
        var step = o.Steps[i];
        var ls = l.Steps[i];
        Line($"| idle at {step.Target:N0}, KiB per connection | {ls.KiBPerConnection:F2} | {step.KiBPerConnection:F2} | {step.KiBPerConnection / ls.KiBPerConnection:F1}x | {(step.Target == 10000 ? "<= 12 KiB" : "(none)")} | {(step.Target == 10000 ? Met(step.KiBPerConnection <= 12) : "-")} |");
    }

    Line($"| idle connections held | {l.HeldAtEnd:N0} | {o.HeldAtEnd:N0} | | >= 19,000 | {Met(o.HeldAtEnd >= 19000)} |");
}

foreach (var (l, o) in churn)
{
    var ratio = o.CyclesPerSecond / l.CyclesPerSecond;
    Line($"| churn, cycles/s | {l.CyclesPerSecond:N0} | {o.CyclesPerSecond:N0} | {ratio:F2}x | >= 1x | {Met(ratio >= 1)} |");
}

foreach (var (l, o) in http)
{
    Line($"| HTTP {o.Path}, requests/s | {l.RequestsPerSecond:N0} | {o.RequestsPerSecond:N0} | {o.RequestsPerSecond / l.RequestsPerSecond:F2}x | (none) | - |");
}

if (options.Out is { } outPath)
{
    File.WriteAllText(outPath, report.ToString());
}

return 0;

static string Met(bool met) => met ? "yes" : "**no**";

// Soak (issue 7): our server only, all workloads at once; exit 1 when anything unexpected happened.
static async Task<int> RunSoakAsync(Options options, string[] args, DateTimeOffset started, string load0)
{
    var report = new StringBuilder();
    void Line(string text = "")
    {
        Console.WriteLine(text);
        report.AppendLine(text);
    }

    Line($"Soak {started:yyyy-MM-dd HH:mm}, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}; load average before: {load0[..14]}");
    Line($"Command line: {string.Join(' ', args)}");
    Line($"Workloads: {options.SoakMembers} mirror members with {options.SoakSenders} of them sending {options.SoakRate} msg/s each; "
        + $"{options.SoakChurn} churn workers (connect, upgrade, close; mirror and dumb-increment in turn); one bad-input worker cycling "
        + "16 malformed handshakes and frames; one connection at a time that never sends; one mirror member that never reads (replaced every 30 s).");
    Line();
    Soak.Result result;
    await using (var server = await ServerProcess.StartAsync(ServerKind.Ours, options.Ours, options.ResourcePath))
    {
        await Task.Delay(500);
        Line($"Server at start: RSS {server.RssBytes() / 1048576.0:F1} MiB, {Directory.GetFiles($"/proc/{server.Pid}/fd").Length} fds, {server.Threads()} threads");
        Line();
        result = await Soak.RunAsync(
            server, TimeSpan.FromMinutes(options.SoakMinutes), TimeSpan.FromSeconds(options.SampleSeconds),
            options.SoakMembers, options.SoakSenders, options.SoakRate, options.SoakChurn, Line);
    }

    var samples = result.Samples;
    Line();
    Line("After the load stopped and every client closed, 15 s settle:");
    Line();
    Line("| | RSS MiB | fds | threads |");
    Line("| --- | ---: | ---: | ---: |");
    if (samples.Count > 0)
    {
        Line($"| first sample | {samples[0].RssBytes / 1048576.0:F1} | {samples[0].Fds} | {samples[0].Threads} |");
        Line($"| max under load | {samples.Max(s => s.RssBytes) / 1048576.0:F1} | {samples.Max(s => s.Fds)} | {samples.Max(s => s.Threads)} |");
        Line($"| last sample | {samples[^1].RssBytes / 1048576.0:F1} | {samples[^1].Fds} | {samples[^1].Threads} |");
    }

    Line($"| settled, no load | {result.Settled.RssBytes / 1048576.0:F1} | {result.Settled.Fds} | {result.Settled.Threads} |");
    Line();
    Line($"Totals: {samples.Sum(s => s.Cycles):N0} churn cycles, {samples.Sum(s => s.Sent):N0} fan-out messages sent and {samples.Sum(s => s.Delivered):N0} deliveries "
        + $"({result.Lost:N0} lost, {result.OutOfOrder:N0} out of order), {samples.Sum(s => s.BadInputs):N0} bad inputs, {result.SlowReaders} never-reading members.");
    Line("Bad-input outcomes: " + string.Join(", ", result.Outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key}: {o.Value:N0}")));
    Line("Errors: " + (result.Errors.Count == 0 ? "none" : string.Join("; ", result.Errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key}: {e.Value:N0}"))));
    Line($"Server alive at the end: {(result.ServerAlive ? "yes" : "NO")}; a fresh client served correctly (dumb-increment counts, mirror echoes): {(result.FreshClientServed ? "yes" : "NO")}");
    if (options.Out is { } outPath)
    {
        File.WriteAllText(outPath, report.ToString());
    }

    return result.Errors.Count == 0 && result.ServerAlive && result.FreshClientServed ? 0 : 1;
}

internal sealed class Options
{
    public string Ours { get; private set; } = "";
    public string ResourcePath { get; private set; } = "/usr/share/libwebsockets-test-server";
    public HashSet<string> Scenarios { get; private set; } = ["fanout", "idle", "churn", "http"];
    public int[] FanOutClients { get; private set; } = [10, 100, 500];
    public int FanOutSeconds { get; private set; } = 8;
    public int Senders { get; private set; } = 10;
    public int Window { get; private set; } = 8;
    public int Payload { get; private set; } = 64;
    public int[] IdleSteps { get; private set; } = [10000, 19000];
    public int ChurnSeconds { get; private set; } = 8;
    public int ChurnWorkers { get; private set; } = 16;

    public int ChurnWarmupSeconds { get; private set; } = 15;
    public int HttpSeconds { get; private set; } = 5;
    public int BurstReaders { get; private set; } = 20;
    public int BurstMessages { get; private set; } = 10_000;
    public int StallMessages { get; private set; } = 10_000;
    public string? Out { get; private set; }
    public bool OursOnly { get; private set; }
    public string? OursMetrics { get; private set; }
    public double SoakMinutes { get; private set; } = 10;
    public int SampleSeconds { get; private set; } = 30;
    public int SoakMembers { get; private set; } = 50;
    public int SoakSenders { get; private set; } = 2;
    public int SoakRate { get; private set; } = 200;
    public int SoakChurn { get; private set; } = 4;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            int[] Ints() => [.. value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
            switch (args[i])
            {
                case "--ours": o.Ours = value; break;
                case "--resource-path": o.ResourcePath = value; break;
                case "--scenarios": o.Scenarios = [.. value.Split(',')]; break;
                case "--fanout-clients": o.FanOutClients = Ints(); break;
                case "--fanout-seconds": o.FanOutSeconds = Ints()[0]; break;
                case "--senders": o.Senders = Ints()[0]; break;
                case "--window": o.Window = Ints()[0]; break;
                case "--payload": o.Payload = Math.Clamp(Ints()[0], LoadDriver.Payload.MinSize, 125); break;
                case "--idle": o.IdleSteps = Ints(); break;
                case "--churn-seconds": o.ChurnSeconds = Ints()[0]; break;
                case "--churn-workers": o.ChurnWorkers = Ints()[0]; break;
                case "--churn-warmup": o.ChurnWarmupSeconds = Ints()[0]; break;
                case "--http-seconds": o.HttpSeconds = Ints()[0]; break;
                case "--burst-readers": o.BurstReaders = Ints()[0]; break;
                case "--burst-messages": o.BurstMessages = Ints()[0]; break;
                case "--stall-messages": o.StallMessages = Ints()[0]; break;
                case "--out": o.Out = value; break;
                case "--servers": o.OursOnly = value == "ours"; break;
                case "--ours-metrics": o.OursMetrics = value is "on" or "off" ? value : throw new ArgumentException("--ours-metrics: on or off"); break;
                case "--soak-minutes": o.SoakMinutes = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--sample-seconds": o.SampleSeconds = Ints()[0]; break;
                case "--soak-members": o.SoakMembers = Ints()[0]; break;
                case "--soak-senders": o.SoakSenders = Ints()[0]; break;
                case "--soak-rate": o.SoakRate = Ints()[0]; break;
                case "--soak-churn": o.SoakChurn = Ints()[0]; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (o.Ours.Length == 0 || !File.Exists(o.Ours))
        {
            throw new ArgumentException($"--ours must name the built lws-server executable (got '{o.Ours}')");
        }

        return o;
    }
}
