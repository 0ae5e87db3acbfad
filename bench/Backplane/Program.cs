// Backplane benchmark (issues 10, 19): mirror fan-out on one server against fan-out across two servers over Redis
// (Redis Streams since issue 19; the group's stream's length and memory are read at the end, bounded by streamMaxLength).
// Starts its own redis-server (Debian's) on a free loopback port. Usage:
//   dotnet run -c Release --project bench/Backplane -- [messages=20000] [paced=2000] [receiversPerServer=2]
//   dotnet run -c Release --project bench/Backplane -- groups [1 100 1000 10000]   (one stream per group vs sharded)
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

var groupsMode = args.Length > 0 && args[0] == "groups";
var messages = args.Length > 0 && !groupsMode ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
var paced = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000;
var receiversPerServer = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;

var port = FreePort();
using var redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
{
    RedirectStandardOutput = true,
    UseShellExecute = false,
})!;
try
{
    while (await redis.StandardOutput.ReadLineAsync() is { } line && !line.Contains("Ready to accept connections", StringComparison.Ordinal))
    {
    }

    if (groupsMode)
    {
        // groups [counts...]: one stream per group against a sharded set, on Redis alone.
        int[] counts = args.Length > 1 ? [.. args.Skip(1).Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [1, 100, 1_000, 10_000];
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, redis-server on loopback; paced messages, a reader blocked on every stream");
        await GroupsBenchmark.RunAsync($"127.0.0.1:{port}", counts);
        return;
    }

    var results = new List<Result>
    {
        await RunAsync("one server (in-process backplane)", null),
        await RunAsync("two servers over Redis", $"127.0.0.1:{port}"),
    };

    Console.WriteLine();
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, redis-server on loopback; {messages} messages blasted, {paced} paced (1 per ms), {receiversPerServer} receivers per server + the sender");
    Console.WriteLine("| scenario | receivers | throughput: messages/s to every receiver | paced latency, sender's server: median / p99 / max (ms) | paced latency, other server: median / p99 / max (ms) | backplane dropped / gaps | blast CPU per message: this process / redis-server (µs) | group stream: entries / MEMORY USAGE |");
    Console.WriteLine("| --- | ---: | ---: | --- | --- | --- | --- | --- |");
    foreach (var r in results)
    {
        Console.WriteLine($"| {r.Name} | {r.Receivers} | {r.Throughput:F0} | {Summary(r.Local)} | {(r.Remote.Count == 0 ? "-" : Summary(r.Remote))} | {r.Dropped} / {r.Gaps} | {r.Cpu.Process:F1} / {r.Cpu.Redis:F1} | {r.Stream ?? "-"} |");
    }
}
finally
{
    redis.Kill();
    await redis.WaitForExitAsync();
}

async Task<Result> RunAsync(string name, string? redisConnection)
{
    var servers = new List<(LwsContext Context, IPEndPoint EndPoint)>();
    for (var i = 0; i < (redisConnection is null ? 1 : 2); i++)
    {
        var context = new LwsContext(
            new LwsServerOptions
            {
                PluginsPath = Path.Combine(AppContext.BaseDirectory, "plugins"),
                WatchPlugins = false,
                Backplane = new BackplaneOptions { Redis = redisConnection, PublishQueueLimit = messages },
            },
            NullLoggerFactory.Instance,
            TimeProvider.System);
        await context.StartAsync(CancellationToken.None);
        var endPoint = await context.CreateVhostAsync(
            new VhostOptions { Name = "localhost", Address = "127.0.0.1", Port = 0, SendQueueLimit = messages * 2, Protocols = [new ProtocolSelection("lws-mirror-protocol")] },
            CancellationToken.None);
        servers.Add((context, endPoint));
    }

    try
    {
        var sender = await ConnectAsync(servers[0].EndPoint);
        var receivers = new List<Receiver> { new(sender, Remote: false) };
        foreach (var (server, index) in servers.Select((s, i) => (s, i)))
        {
            for (var r = 0; r < receiversPerServer; r++)
            {
                receivers.Add(new Receiver(await ConnectAsync(server.EndPoint), Remote: index > 0));
            }
        }

        string Describe(string kind) => $"{kind}: received " + string.Join(", ", receivers.Select(r => r.Count(kind))) + "; backplanes: " +
            string.Join("; ", servers.Select(s => System.Text.Json.JsonSerializer.Serialize(s.Context.Backplane.GetStatus())));

        // Every member proves it joined with its own echo; then a message from the sender must reach all (subscriptions made).
        foreach (var receiver in receivers)
        {
            receiver.Start();
        }

        foreach (var receiver in receivers)
        {
            await SendAsync(receiver.Socket, "join");
        }

        await WaitAsync(() => receivers.All(r => r.Count("join") >= 1), () => Describe("join"));
        var readyBy = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
        for (var n = 0; !receivers.All(r => r.Count("ready") >= 1); n++)
        {
            if (Stopwatch.GetTimestamp() > readyBy)
            {
                throw new TimeoutException("the sender's messages did not reach every receiver within 30 s; " + Describe("ready"));
            }

            await SendAsync(sender, "ready");
            await Task.Delay(100);
        }

        foreach (var receiver in receivers)
        {
            receiver.Reset();
        }

        Progress($"{name}: ready");

        // Throughput: the sender sends as fast as it can; done when every receiver has every message.
        var cpuBefore = (Process: Environment.CpuUsage.TotalTime, Redis: await RedisCpuAsync(redisConnection));
        var started = Stopwatch.GetTimestamp();
        for (var n = 0; n < messages; n++)
        {
            await SendAsync(sender, $"b {n} {Stopwatch.GetTimestamp()}");
        }

        await WaitAsync(() => receivers.All(r => r.Count("b") >= messages), () => Describe("b"));
        var throughput = messages / Stopwatch.GetElapsedTime(started).TotalSeconds;
        // CPU per message blasted, this process (servers and clients) and redis-server: where a transport's cost lies.
        var cpu = ((Environment.CpuUsage.TotalTime - cpuBefore.Process).TotalMicroseconds / messages,
            ((await RedisCpuAsync(redisConnection)) - cpuBefore.Redis) * 1e6 / messages);

        Progress($"{name}: blast done");

        // Latency: one message per millisecond, each stamped; measured at every receiver.
        foreach (var receiver in receivers)
        {
            receiver.Reset();
        }

        for (var n = 0; n < paced; n++)
        {
            await SendAsync(sender, $"p {n} {Stopwatch.GetTimestamp()}");
            await Task.Delay(1);
        }

        await WaitAsync(() => receivers.All(r => r.Count("p") >= paced), () => Describe("p"));
        var local = receivers.Where(r => !r.Remote).SelectMany(r => r.Latencies("p")).ToList();
        var remote = receivers.Where(r => r.Remote).SelectMany(r => r.Latencies("p")).ToList();
        foreach (var receiver in receivers)
        {
            receiver.Socket.Abort();
            receiver.Socket.Dispose();
        }

        var statuses = servers.Select(s => s.Context.Backplane.GetStatus()).ToList();
        string? stream = null;
        if (redisConnection is not null)
        {
            // What Redis keeps of the group: XADD MAXLEN ~ bounds it however many messages went through.
            await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redisConnection);
            var database = admin.GetDatabase();
            const string key = "lws/localhost/lws-mirror-protocol/bench";
            var length = await database.StreamLengthAsync(key);
            var usage = await database.ExecuteAsync("MEMORY", "USAGE", key, "SAMPLES", "0");
            var bytes = usage.IsNull ? 0 : (long)usage;
            stream = string.Create(CultureInfo.InvariantCulture, $"{length:N0} / {bytes / 1024.0 / 1024.0:F2} MiB ({bytes / Math.Max(1, length)} B per entry; {messages + paced:N0} sent, streamMaxLength {new BackplaneOptions().StreamMaxLength:N0})");
        }

        return new Result(name, receivers.Count, throughput, local, remote, statuses.Sum(s => s.Dropped), statuses.Sum(s => s.Gaps), stream, cpu);
    }
    finally
    {
        foreach (var (context, _) in servers)
        {
            await context.DisposeAsync();
        }
    }
}

// used_cpu_user + used_cpu_sys of redis-server, in seconds (0 without Redis).
static async Task<double> RedisCpuAsync(string? connection)
{
    if (connection is null)
    {
        return 0;
    }

    await using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(connection + ",allowAdmin=true");
    var info = (string?)await admin.GetDatabase().ExecuteAsync("INFO", "cpu") ?? "";
    return info.Split('\n').Select(l => l.Trim().Split(':')).Where(p => p.Length == 2 && p[0] is "used_cpu_user" or "used_cpu_sys")
        .Sum(p => double.Parse(p[1], CultureInfo.InvariantCulture));
}

static void Progress(string what) => Console.Error.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {what}");

static async Task<ClientWebSocket> ConnectAsync(IPEndPoint endPoint)
{
    var socket = new ClientWebSocket();
    socket.Options.AddSubProtocol("lws-mirror-protocol");
    await socket.ConnectAsync(new Uri($"ws://{endPoint}/?mirror=bench"), CancellationToken.None);
    return socket;
}

static Task SendAsync(ClientWebSocket socket, string text)
    => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

static async Task WaitAsync(Func<bool> condition, Func<string> what)
{
    var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 120;
    while (!condition())
    {
        if (Stopwatch.GetTimestamp() > deadline)
        {
            throw new TimeoutException($"not every receiver got every message within 120 s: {what()}");
        }

        await Task.Delay(5);
    }
}

static string Summary(List<double> values)
{
    values.Sort();
    static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
    return $"{F(values[values.Count / 2])} / {F(values[(int)(values.Count * 0.99)])} / {F(values[^1])}";
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}

internal sealed record Result(string Name, int Receivers, double Throughput, List<double> Local, List<double> Remote, long Dropped, long Gaps, string? Stream, (double Process, double Redis) Cpu);

/// <summary>One client reading everything; counts messages by kind and keeps the latency of stamped ones.</summary>
internal sealed class Receiver(ClientWebSocket socket, bool Remote)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _counts = [];
    private readonly Dictionary<string, List<double>> _latencies = [];

    public ClientWebSocket Socket { get; } = socket;

    public bool Remote { get; } = Remote;

    public void Start() => _ = Task.Run(async () =>
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
                var now = Stopwatch.GetTimestamp();
                var parts = Encoding.UTF8.GetString(buffer, 0, result.Count).Split(' ');
                lock (_gate)
                {
                    _counts[parts[0]] = _counts.GetValueOrDefault(parts[0]) + 1;
                    if (parts.Length == 3)
                    {
                        var stamp = long.Parse(parts[2], CultureInfo.InvariantCulture);
                        if (!_latencies.TryGetValue(parts[0], out var list))
                        {
                            _latencies[parts[0]] = list = [];
                        }

                        list.Add(Stopwatch.GetElapsedTime(stamp, now).TotalMilliseconds);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Closed at the end of the run.
        }
    });

    public int Count(string kind)
    {
        lock (_gate)
        {
            return _counts.GetValueOrDefault(kind);
        }
    }

    public List<double> Latencies(string kind)
    {
        lock (_gate)
        {
            return [.. _latencies.GetValueOrDefault(kind) ?? []];
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _counts.Clear();
            _latencies.Clear();
        }
    }
}
