// The plugin author's loop (issue 18), timed. Usage (after plugin-sdk/pack-local-feed.sh; bench/AuthorLoop/run.sh does both):
//   dotnet bench/AuthorLoop/bin/Release/net10.0/AuthorLoop.dll [rounds=3] [editsPerRound=2] [--no-compiler-server]
// A real server (lws-server.dll, no configuration: its default vhost serves every loaded plugin) watches a temporary
// plugins folder. Each round creates a new plugin with `dotnet new lws-plugin`, builds it into that folder, and probes
// (fresh connection, subprotocol, echo, back to back) until the 101; then edits the handler's reply and builds again,
// probing until the new reply. The probe runs from before each build starts, so it sees the first moment the server
// serves. "server" is from the last file the build landed in the plugin's folder (its newest ctime) to that moment;
// "build" is everything before it (dotnet new, restore, compile, copy). An untimed first round warms NuGet's cache
// (the script dropped LwsPlugins.Sdk from it) and the template engine.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using LwsPlugins.Tests.Common;

var numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
var rounds = numbers.Length > 0 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 3;
var editsPerRound = numbers.Length > 1 ? int.Parse(numbers[1], CultureInfo.InvariantCulture) : 2;
var buildTimeout = TimeSpan.FromMinutes(4);

// The .NET SDK's default is a compiler server (VBCSCompiler) that stays warm between builds; this machine's environment
// turns it off (UseSharedCompilation=false) for the shared CI builds. By default the loop runs as a reader's machine
// does, with the server; --no-compiler-server keeps every build's csc cold. The compiler server this run started is
// stopped at the end, by its process id.
var compilerServer = !args.Contains("--no-compiler-server");
Environment.SetEnvironmentVariable("UseSharedCompilation", compilerServer ? null : "false");
// Inherited by every process this run starts, the compiler server included: it tells ours from anyone else's.
var marker = "LWS_AUTHOR_LOOP_RUN=" + Guid.NewGuid().ToString("N");
Environment.SetEnvironmentVariable("LWS_AUTHOR_LOOP_RUN", marker["LWS_AUTHOR_LOOP_RUN=".Length..]);

var root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "lws-author-loop-" + Guid.NewGuid().ToString("N"))).FullName;
var plugins = Directory.CreateDirectory(Path.Combine(root, "plugins")).FullName;
try
{
    await using var server = await ServerProcess.StartAsync("-p", "0", "--plugins", plugins);
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; server {server.EndPoint}, pid {server.Process.Id}; compiler server {(compilerServer ? "on (SDK default)" : "off")}");

    await MeasureNewAsync(server.EndPoint, "Warmup", "author-loop-warmup");
    var created = new List<Sample>();
    var edited = new List<Sample>();
    for (var round = 1; round <= rounds; round++)
    {
        var name = $"Loop{round}";
        var protocol = $"author-loop-{round}";
        var sample = await MeasureNewAsync(server.EndPoint, name, protocol);
        created.Add(sample);
        Console.WriteLine($"round {round}: dotnet new -> first 101 {sample.TotalMs,7:F0} ms (build {sample.BuildMs:F0}, server {sample.ServerMs:F0})");
        for (var edit = 1; edit <= editsPerRound; edit++)
        {
            var editSample = await MeasureEditAsync(server.EndPoint, name, protocol, edit);
            edited.Add(editSample);
            Console.WriteLine($"round {round}, edit {edit}: edit -> new reply live {editSample.TotalMs,7:F0} ms (build {editSample.BuildMs:F0}, server {editSample.ServerMs:F0})");
        }
    }

    if (server.Process.HasExited)
    {
        throw new InvalidOperationException("the server exited during the loop:\n" + server.Output);
    }

    Console.WriteLine();
    Console.WriteLine("| step | samples | total median / max (ms) | build median / max (ms) | server median / max (ms) |");
    Console.WriteLine("| --- | ---: | --- | --- | --- |");
    Row("`dotnet new` -> first 101", created);
    Row("edit -> new reply live", edited);
    Console.WriteLine($"server process: one (pid {server.Process.Id}) for every step, no restart");
}
finally
{
    foreach (var process in Process.GetProcessesByName("VBCSCompiler"))
    {
        using (process)
        {
            if (StartedHere(process.Id, marker))
            {
                process.Kill();
            }
        }
    }

    try
    {
        Directory.Delete(root, recursive: true);
    }
    catch (IOException)
    {
        // The OS temp cleaner takes what is left.
    }
}

return 0;

async Task<Sample> MeasureNewAsync(IPEndPoint endPoint, string name, string protocol)
{
    var project = Path.Combine(root, name);
    var started = DateTime.UtcNow;
    await DotnetAsync("new", "lws-plugin", "-n", name, "--protocol", protocol, "-o", project);
    return await BuildAndProbeAsync(endPoint, name, protocol, started, "hello");
}

async Task<Sample> MeasureEditAsync(IPEndPoint endPoint, string name, string protocol, int edit)
{
    // The edit a reader makes: the reply changes ("e1:hello", then "e2:hello", ...), one file is saved.
    var handler = Path.Combine(root, name, name, name + "Handler.cs");
    var source = await File.ReadAllTextAsync(handler);
    var edited = edit == 1
        ? source.Replace("_options.Prefix + message.GetText()", "_options.Prefix + \"e1:\" + message.GetText()", StringComparison.Ordinal)
        : source.Replace($"\"e{edit - 1}:\"", $"\"e{edit}:\"", StringComparison.Ordinal);
    if (edited == source)
    {
        throw new InvalidOperationException($"the edit found nothing to change in {handler}");
    }

    var started = DateTime.UtcNow;
    await File.WriteAllTextAsync(handler, edited);
    return await BuildAndProbeAsync(endPoint, name, protocol, started, $"e{edit}:hello");
}

async Task<Sample> BuildAndProbeAsync(IPEndPoint endPoint, string name, string protocol, DateTime started, string expected)
{
    using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
    var probe = ProbeAsync(endPoint, protocol, expected, stop.Token);
    await DotnetAsync("build", Path.Combine(root, name, name), $"-p:LwsPluginsFolder={plugins}");
    var served = await probe;
    var landed = await LandedAsync(Path.Combine(plugins, protocol));
    return new Sample((served - started).TotalMilliseconds, (landed - started).TotalMilliseconds, (served - landed).TotalMilliseconds);
}

// When the build's last file landed in the plugin's folder: the newest status-change time (ctime) there. Not the
// modification time: MSBuild's Copy keeps the source's mtime, so a deployed file's mtime is when the compiler (or an
// earlier copy) wrote it, not when it arrived. Copying, and setting that mtime afterwards, both set ctime to now.
static async Task<DateTime> LandedAsync(string pluginFolder)
{
    var (exitCode, output) = await Command.RunAsync("stat", ["-c", "%.9Z", .. Directory.GetFiles(pluginFolder)]);
    if (exitCode != 0)
    {
        throw new InvalidOperationException($"stat failed: {output}");
    }

    var newest = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Max(l => decimal.Parse(l, CultureInfo.InvariantCulture));
    return DateTime.UnixEpoch.AddTicks((long)(newest * TimeSpan.TicksPerSecond));
}

// Fresh connections back to back until one negotiates the protocol and echoes "hello" as expected; returns the time
// of that reply (for a new plugin, the first 101 is followed by this reply within the same round trip).
static async Task<DateTime> ProbeAsync(IPEndPoint endPoint, string protocol, string expected, CancellationToken cancellationToken)
{
    var uri = new Uri($"ws://{endPoint}/");
    while (true)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await using var client = await WsClient.ConnectAsync(uri, protocol);
            var upgraded = DateTime.UtcNow;
            if (client.SubProtocol == protocol)
            {
                await client.SendTextAsync("hello");
                var reply = await client.ReceiveTextAsync();
                if (reply == expected)
                {
                    return expected == "hello" ? upgraded : DateTime.UtcNow;
                }
            }
        }
        catch (WebSocketException)
        {
            // Not offered yet: the handshake is refused until the plugin is loaded.
        }

        await Task.Delay(2, cancellationToken);
    }
}

async Task DotnetAsync(params string[] arguments)
{
    var (exitCode, output) = await Command.RunAsync(buildTimeout, "dotnet", arguments);
    if (exitCode != 0)
    {
        throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} exited with {exitCode}:\n{output}");
    }
}

static bool StartedHere(int processId, string marker)
{
    try
    {
        return File.ReadAllText($"/proc/{processId}/environ").Split('\0').Contains(marker);
    }
    catch (IOException)
    {
        return false; // gone already
    }
    catch (UnauthorizedAccessException)
    {
        return false; // not ours
    }
}

static void Row(string step, List<Sample> samples)
{
    static string Cell(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return $"{sorted[sorted.Count / 2]:F0} / {sorted[^1]:F0}";
    }

    Console.WriteLine($"| {step} | {samples.Count} | {Cell(samples.Select(s => s.TotalMs))} | {Cell(samples.Select(s => s.BuildMs))} | {Cell(samples.Select(s => s.ServerMs))} |");
}

internal sealed record Sample(double TotalMs, double BuildMs, double ServerMs);
