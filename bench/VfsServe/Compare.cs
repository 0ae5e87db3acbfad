// Static files, three servers in one run (issue 24): lws's libwebsockets-test-server, bare Kestrel + UseStaticFiles
// (this program with `bare`), and our server binary (lws-server -r), each its own process serving lws's resource folder
// (lws 4.1.6 serves only its compiled-in folder, so the 64 KiB and 1 MiB files are copied into it for the run). wrk
// -t1 per row, keep-alive and `Connection: close`; CPU per request from /proc/<pid>/stat (utime + stime) deltas.
// Arguments after `compare`: [seconds=5] [connections=32] [rounds=3] [ourServer=host/LwsPlugins.Server/bin/Release/net10.0/lws-server]
// [folder=/usr/share/libwebsockets-test-server] [warmup=10]; run from the repository root as root (it writes two files into
// the folder). Each server is warmed `warmup` seconds on each cell's own load before its rounds: the .NET servers' JIT
// tiers a new code path up for its first seconds (perf on ours under a `Connection: close` load: 26 % of samples in
// libclrjit during the first 10 s, 0.1 % after 30 s), so a 1 s warm-up measured the compiler, not the steady state.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

internal static partial class Compare
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var connections = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 32;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 3;
        var ours = args.Length > 4 ? args[4] : "host/LwsPlugins.Server/bin/Release/net10.0/lws-server";
        var folder = args.Length > 5 ? args[5] : "/usr/share/libwebsockets-test-server";
        var warmup = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 10;
        var self = Environment.ProcessPath!;
        var selfDll = typeof(Compare).Assembly.Location;

        var files = new (string Path, string Label, int Size)[] { ("/test.html", "7 KiB (lws test.html)", 0), ("/bench-64k.html", "64 KiB", 64 * 1024), ("/bench-1m.html", "1 MiB", 1 << 20) };
        foreach (var (path, _, size) in files.Where(f => f.Size > 0))
        {
            File.WriteAllText(Path.Combine(folder, path.TrimStart('/')), Text(size));
        }

        var servers = new List<(string Name, Process Process, int Port)>();
        try
        {
            var lwsPort = FreePort();
            servers.Add(("lws 4.1.6 test server", Start("libwebsockets-test-server", $"--port={lwsPort} --interface=127.0.0.1"), lwsPort));
            var barePort = FreePort();
            servers.Add(("bare Kestrel + UseStaticFiles", Start(self, $"{(self.EndsWith("dotnet", StringComparison.Ordinal) ? selfDll + " " : "")}bare {barePort} {folder}"), barePort));
            var oursPort = FreePort();
            servers.Add(("ours (lws-server -r, default log level)", Start(ours, $"-p {oursPort} -i 127.0.0.1 -r {folder}"), oursPort));
            foreach (var (name, _, port) in servers)
            {
                await WaitForAsync(port, name);
            }

            Console.WriteLine($"load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
            // The machine is shared: each cell is measured in `rounds` rounds, the servers interleaved, and the median
            // round (by requests/s) is reported with its own CPU.
            var rows = new List<string>();
            foreach (var (path, label, _) in files)
            {
                foreach (var close in new[] { false, true })
                {
                    var results = servers.Select(_ => new List<(double Rps, double CpuPercent, double CpuPerRequest, string Errors, string SocketErrors)>()).ToList();
                    if (warmup > 0)
                    {
                        foreach (var (_, _, port) in servers)
                        {
                            await WrkAsync($"http://127.0.0.1:{port}{path}", connections, warmup, close);
                        }
                    }

                    for (var round = 0; round < rounds; round++)
                    {
                        for (var i = 0; i < servers.Count; i++)
                        {
                            var (_, process, port) = servers[i];
                            var url = $"http://127.0.0.1:{port}{path}";
                            await WrkAsync(url, connections, 1, close);
                            var cpu0 = CpuSeconds(process);
                            var watch = Stopwatch.StartNew();
                            var output = await WrkAsync(url, connections, seconds, close);
                            var elapsed = watch.Elapsed.TotalSeconds;
                            var cpu = CpuSeconds(process) - cpu0;
                            var rps = double.Parse(Rps().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
                            var requests = long.Parse(Requests().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
                            var errors = Non2xx().Match(output) is { Success: true } n ? n.Groups[1].Value : "0";
                            var socketErrors = SocketErrors().Match(output) is { Success: true } s ? s.Groups[1].Value.Trim() : "-";
                            results[i].Add((rps, 100 * cpu / elapsed, 1e6 * cpu / requests, errors, socketErrors));
                        }
                    }

                    for (var i = 0; i < servers.Count; i++)
                    {
                        var median = results[i].OrderBy(r => r.Rps).ElementAt(results[i].Count / 2);
                        var all = string.Join(" / ", results[i].Select(r => r.Rps.ToString("N0", CultureInfo.InvariantCulture)));
                        var row = $"| {label} | {(close ? "close" : "keep-alive")} | {servers[i].Name} | {median.Rps:N0} | {all} | {median.CpuPercent:N0} % | {median.CpuPerRequest:N1} | {median.Errors} | {median.SocketErrors} |";
                        Console.WriteLine(row);
                        rows.Add(row);
                    }
                }
            }

            Console.WriteLine();
            Console.WriteLine($"wrk -t1 -c{connections} -d{seconds}s ({warmup} s warm-up per server and cell, 1 s before each round), median of {rounds} interleaved rounds, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}; load average after: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine();
            Console.WriteLine("| file | connection | server | requests/s (median) | each round | server CPU | CPU µs/request | non-2xx | socket errors |");
            Console.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
            rows.ForEach(Console.WriteLine);
            return 0;
        }
        finally
        {
            foreach (var (_, process, _) in servers)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                process.Dispose();
            }

            foreach (var (path, _, size) in files.Where(f => f.Size > 0))
            {
                File.Delete(Path.Combine(folder, path.TrimStart('/')));
            }
        }
    }

    private static string Text(int size)
    {
        var random = new Random(24);
        var words = new[] { "<p>", "</p>\n", "lws", "plugin", "vhost", "static", "file", "serving", "zip", "deflate", "the", "a", "of" };
        var text = new StringBuilder();
        while (text.Length < size)
        {
            text.Append(words[random.Next(words.Length)]).Append(' ');
        }

        return text.ToString(0, size);
    }

    private static Process Start(string file, string arguments)
    {
        var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForAsync(int port, string name)
    {
        using var http = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/test.html");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"{name} did not serve /test.html on port {port} within 10 s.");
    }

    private static async Task<string> WrkAsync(string url, int connections, int seconds, bool close)
    {
        var header = close ? "-H \"Connection: close\" " : "";
        using var wrk = Process.Start(new ProcessStartInfo("wrk", $"-t1 -c{connections} -d{seconds}s {header}{url}") { RedirectStandardOutput = true })!;
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        return output;
    }

    /// <summary>utime + stime of a process (all its threads), in seconds.</summary>
    private static double CpuSeconds(Process process)
    {
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex Rps();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex Requests();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors:(.*)")]
    private static partial Regex SocketErrors();
}
