using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LoadDriver;

/// <summary>A server under test, in its own process on 127.0.0.1: started fresh for each scenario, stopped with SIGTERM.</summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(string name, Process process, IPEndPoint endPoint)
    {
        Name = name;
        _process = process;
        EndPoint = endPoint;
    }

    public string Name { get; }

    public IPEndPoint EndPoint { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <param name="oursMetrics">
    /// For our server: null starts it from the command line alone; "off" or "on" from a configuration file with the same
    /// one vhost, "on" adding <c>metricsPath</c> (the Prometheus exporter then aggregates), to measure what that costs.
    /// </param>
    public static async Task<ServerProcess> StartAsync(ServerKind kind, string oursPath, string resourcePath, string? oursMetrics = null, bool tls = false)
    {
        var port = FreePort();
        var oursArguments = $"-p {port} -i 127.0.0.1 -r {resourcePath} -d Warning";
        if (kind == ServerKind.Ours && oursMetrics is not null)
        {
            var config = Path.Combine(Path.GetTempPath(), $"loaddriver-{Environment.ProcessId}-{port}.json");
            var metricsPath = oursMetrics == "on" ? ", \"metricsPath\": \"/metrics\"" : "";
            await File.WriteAllTextAsync(config, $$"""
                { "vhosts": [ { "name": "localhost", "address": "127.0.0.1", "port": {{port}},
                  "mounts": [ { "mountPoint": "/", "origin": "{{resourcePath}}", "defaultDocuments": [ "index.html", "test.html" ] } ]{{metricsPath}} } ] }
                """);
            oursArguments = $"-c {config} -d Warning";
        }

        if (tls)
        {
            oursArguments += " -s";
        }

        var info = kind == ServerKind.Lws
            ? new ProcessStartInfo("libwebsockets-test-server", $"--port={port} --interface=127.0.0.1 -d 3{(tls ? " -s " + LwsTestCertificate() : "")}")
            : new ProcessStartInfo(oursPath, oursArguments);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;

        // The driver's own runtime settings (inline socket completions, GC mode) are not the server's: it runs on defaults.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("DOTNET_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + info.FileName);
        process.OutputDataReceived += (_, e) => Forward(kind, e.Data);
        process.ErrorDataReceived += (_, e) => Forward(kind, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(kind == ServerKind.Lws ? "lws" : "ours", process, new IPEndPoint(IPAddress.Loopback, port));
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{server.Name} exited at start with code {process.ExitCode}");
            }

            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await probe.ConnectAsync(server.EndPoint);
                break;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(50);
            }
        }

        return server;
    }

    /// <summary>Resident set size from /proc (bytes).</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..^2].Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>User + system CPU seconds consumed so far, from /proc.</summary>
    public double CpuSeconds() => ProcCpu.Seconds(Pid);

    public int Threads() => int.Parse(
        File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("Threads:", StringComparison.Ordinal))[8..].Trim(),
        CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }

    private static void Forward(ServerKind kind, string? line)
    {
        if (!string.IsNullOrWhiteSpace(line) && Environment.GetEnvironmentVariable("LOAD_SERVER_LOGS") == "1")
        {
            Console.Error.WriteLine($"[{kind}] {line}");
        }
    }

    private static int FreePort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>
    /// lws's packaged test certificate has a 1024-bit key, which Debian 12's OpenSSL refuses ("ee key too small"): the
    /// driver writes a 2048-bit self-signed one for it (`-C`/`-K`), once per run.
    /// </summary>
    private static string LwsTestCertificate()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"loaddriver-tls-{Environment.ProcessId}");
        var cert = Path.Combine(folder, "cert.pem");
        var key = Path.Combine(folder, "key.pem");
        if (!File.Exists(cert))
        {
            Directory.CreateDirectory(folder);
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
                "CN=localhost", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
            File.WriteAllText(cert, certificate.ExportCertificatePem());
        }

        return $"-C {cert} -K {key}";
    }
}

internal enum ServerKind
{
    Lws,
    Ours,
}

/// <summary>CPU time of a process (this one or another) from /proc/&lt;pid&gt;/stat.</summary>
internal static class ProcCpu
{
    private static readonly double s_ticks = 100.0;

    public static double Seconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields after "(comm) ": state is [0]; utime is field 14 of the full line, so [11]; stime [12].
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / s_ticks;
    }

    public static double Self() => Seconds(Environment.ProcessId);
}
