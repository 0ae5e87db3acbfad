// Vhost churn benchmark (issue 3): create and destroy vhosts while a sibling vhost streams dumb-increment to a client.
// Reports vhost creation time, destroy part-1 time, and the sibling's message gaps. Usage:
//   dotnet run -c Release --project bench/VhostChurn -- [cycles=1000] [ownPortCycles=200]
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

var cycles = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
var ownPortCycles = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;

await using var context = new LwsContext(
    new LwsServerOptions { PluginsPath = Path.Combine(AppContext.BaseDirectory, "plugins"), DestroyDelayMs = 0 },
    NullLoggerFactory.Instance,
    TimeProvider.System);
await context.StartAsync(CancellationToken.None);
var sibling = await context.CreateVhostAsync(Vhost("sibling", 0), CancellationToken.None);

using var client = new ClientWebSocket();
client.Options.AddSubProtocol("dumb-increment-protocol");
await client.ConnectAsync(new Uri($"ws://{sibling}/"), CancellationToken.None);
using var stopReading = new CancellationTokenSource();
var arrivals = new List<(long Timestamp, int Value)>();
var reader = Task.Run(async () =>
{
    var buffer = new byte[64];
    while (!stopReading.IsCancellationRequested)
    {
        var result = await client.ReceiveAsync(buffer, CancellationToken.None);
        arrivals.Add((Stopwatch.GetTimestamp(), int.Parse(Encoding.ASCII.GetString(buffer, 0, result.Count), CultureInfo.InvariantCulture)));
    }
});

await Task.Delay(500);
var churnStart = arrivals.Count;
var shared = await Churn("shared port", cycles, sibling.Port);
var own = await Churn("own port (new listener each)", ownPortCycles, 0);
var churnEnd = arrivals.Count;
await Task.Delay(200);
stopReading.Cancel();
await reader.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { }, TaskScheduler.Default);

var window = arrivals.Skip(churnStart).Take(churnEnd - churnStart).ToList();
var missing = window.Zip(window.Skip(1)).Count(pair => pair.Second.Value != pair.First.Value + 1);
var intervals = window.Zip(window.Skip(1)).Select(pair => Stopwatch.GetElapsedTime(pair.First.Timestamp, pair.Second.Timestamp).TotalMilliseconds).ToList();

Console.WriteLine();
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine("| scenario | cycles | create median / p99 / max (ms) | destroy part 1 median / p99 / max (ms) |");
Console.WriteLine("| --- | ---: | --- | --- |");
foreach (var (name, count, create, destroy) in new[] { shared, own })
{
    Console.WriteLine($"| {name} | {count} | {Summary(create)} | {Summary(destroy)} |");
}

Console.WriteLine();
Console.WriteLine($"sibling stream during churn: {window.Count} messages, {missing} gaps in the counter, " +
    $"interval median {Percentile(intervals, 0.5):F1} ms, p99 {Percentile(intervals, 0.99):F1} ms, max {intervals.DefaultIfEmpty().Max():F1} ms (nominal 50 ms)");
var diagnostics = context.GetDiagnostics();
Console.WriteLine($"after churn: {diagnostics}");
return 0;

async Task<(string, int, List<double>, List<double>)> Churn(string name, int count, int port)
{
    var create = new List<double>(count);
    var destroy = new List<double>(count);
    for (var i = 0; i < count; i++)
    {
        var started = Stopwatch.GetTimestamp();
        await context.CreateVhostAsync(Vhost("churn", port), CancellationToken.None);
        create.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        started = Stopwatch.GetTimestamp();
        await context.DestroyVhostAsync("churn", CancellationToken.None);
        destroy.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    // Let the deferred part 2 of the last destructions run before the next scenario.
    while (context.GetDiagnostics().Destroying > 0)
    {
        await Task.Delay(10);
    }

    return (name, count, create, destroy);
}

static VhostOptions Vhost(string name, int port) => new()
{
    Name = name,
    Address = "127.0.0.1",
    Port = port,
    Protocols = [new ProtocolSelection("dumb-increment-protocol"), new ProtocolSelection("lws-mirror-protocol")],
};

static string Summary(List<double> values)
    => $"{Percentile(values, 0.5):F3} / {Percentile(values, 0.99):F3} / {values.Max():F3}";

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0)
    {
        return 0;
    }

    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
