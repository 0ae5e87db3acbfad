// Static file benchmark (issue 5): requests/s for a 4 KiB and a 1 MiB file served by our server (from a folder and
// from a zip, identity and gzip passthrough) and by lws's libwebsockets-test-server, all on 127.0.0.1, driven by wrk.
// lws 4.1.6's test server serves only its compiled-in resource folder (-r does not move its mount), so the files are
// copied into it for the run and removed afterwards (needs write access there). Usage:
//   dotnet run -c Release --project bench/VfsServe -- [seconds=10] [connections=32] [threads=2] [lwsFolder=/usr/share/libwebsockets-test-server]
// Issue 24's three-server comparison (lws, bare Kestrel, our server binary; see Compare.cs), from the repository root:
//   dotnet build -c Release host/LwsPlugins.Server && dotnet run -c Release --project bench/VfsServe -- compare [seconds=5] [connections=32] [rounds=3]
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

if (args is ["compare", ..])
{
    return await Compare.RunAsync(args);
}

if (args is ["bare", _, _])
{
    return await Bare.RunAsync(args);
}

var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
var connections = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 32;
var threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
var lwsFolder = args.Length > 3 ? args[3] : "/usr/share/libwebsockets-test-server";

var root = Directory.CreateTempSubdirectory("lws-vfs-bench-").FullName;
var files = new (string Name, int Size)[] { ("bench-4k.html", 4 * 1024), ("bench-1m.html", 1024 * 1024) };
var random = new Random(5);
foreach (var (name, size) in files)
{
    // Text-like content (words from a small vocabulary), so deflate does what it does on real pages.
    var words = new[] { "<p>", "</p>\n", "lws", "plugin", "vhost", "static", "file", "serving", "zip", "deflate", "the", "a", "of" };
    var text = new StringBuilder();
    while (text.Length < size)
    {
        text.Append(words[random.Next(words.Length)]).Append(' ');
    }

    File.WriteAllText(Path.Combine(root, name), text.ToString(0, size));
}

var zipPath = Path.Combine(root, "bench.zip");
using (var zip = ZipFile.Open(zipPath, ZipArchiveMode.Create))
{
    foreach (var (name, _) in files)
    {
        zip.CreateEntryFromFile(Path.Combine(root, name), name, CompressionLevel.Optimal);
    }
}

var vhost = new VhostOptions
{
    Name = "bench",
    Address = "127.0.0.1",
    Port = 0,
    Mounts = [new MountOptions { MountPoint = "/", Origin = root }, new MountOptions { MountPoint = "/zip", Origin = "file:///bench-zip" }],
};
await using var context = new LwsContext(
    new LwsServerOptions { PluginsPath = root, WatchPlugins = false, FileProviders = [new FileProviderOptions { Prefix = "/bench-zip", Zip = zipPath }] },
    NullLoggerFactory.Instance,
    TimeProvider.System);
await context.StartAsync(CancellationToken.None);
var ours = await context.CreateVhostAsync(vhost, CancellationToken.None);

var lwsPort = FreePort();
foreach (var (name, _) in files)
{
    File.Copy(Path.Combine(root, name), Path.Combine(lwsFolder, name), overwrite: true);
}

using var lws = Process.Start(new ProcessStartInfo("libwebsockets-test-server", $"--port={lwsPort} --interface=127.0.0.1")
{
    RedirectStandardError = true,
    RedirectStandardOutput = true,
})!;
lws.OutputDataReceived += (_, _) => { };
lws.ErrorDataReceived += (_, _) => { };
lws.BeginOutputReadLine();
lws.BeginErrorReadLine();
await Task.Delay(1000);

var rows = new List<string>();
try
{
    // Warm-up (JIT, tiered compilation, connection pools): a few seconds on each of our URLs, not reported.
    var measured = seconds;
    seconds = Math.Max(2, seconds / 3);
    foreach (var (name, size) in files)
    {
        await Run("warm-up", $"http://{ours}/{name}", null, size);
        await Run("warm-up", $"http://{ours}/zip/{name}", null, size);
        await Run("warm-up", $"http://{ours}/zip/{name}", "gzip", size);
    }

    seconds = measured;
    foreach (var (name, size) in files)
    {
        rows.Add(await Run($"ours, folder", $"http://{ours}/{name}", null, size));
        rows.Add(await Run($"ours, zip (inflated)", $"http://{ours}/zip/{name}", null, size));
        rows.Add(await Run($"ours, zip (gzip passthrough)", $"http://{ours}/zip/{name}", "gzip", size));
        rows.Add(await Run($"lws test server, folder", $"http://127.0.0.1:{lwsPort}/{name}", null, size));
    }
}
finally
{
    lws.Kill();
    await lws.WaitForExitAsync();
    foreach (var (name, _) in files)
    {
        File.Delete(Path.Combine(lwsFolder, name));
    }

    Directory.Delete(root, recursive: true);
}

Console.WriteLine();
Console.WriteLine($"wrk -t{threads} -c{connections} -d{seconds}s, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}");
Console.WriteLine();
Console.WriteLine("| file | server | requests/s | transfer/s | latency avg | non-2xx |");
Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
foreach (var row in rows)
{
    Console.WriteLine(row);
}

async Task<string> Run(string label, string url, string? acceptEncoding, int size)
{
    using var check = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None });
    using var request = new HttpRequestMessage(HttpMethod.Get, url);
    if (acceptEncoding is not null)
    {
        request.Headers.AcceptEncoding.ParseAdd(acceptEncoding);
    }

    using var response = await check.SendAsync(request);
    var body = await response.Content.ReadAsByteArrayAsync();
    if (response.StatusCode != HttpStatusCode.OK)
    {
        throw new InvalidOperationException($"{label}: {url} answered {(int)response.StatusCode}");
    }

    var header = acceptEncoding is null ? "" : $"-H \"Accept-Encoding: {acceptEncoding}\" ";
    var arguments = $"-t{threads} -c{connections} -d{seconds}s --latency {header}{url}";
    Console.WriteLine($"wrk {arguments}   ({label}, {body.Length} bytes per response)");
    using var wrk = Process.Start(new ProcessStartInfo("wrk", arguments) { RedirectStandardOutput = true })!;
    var output = await wrk.StandardOutput.ReadToEndAsync();
    await wrk.WaitForExitAsync();
    string Find(string prefix) => output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..].Trim() ?? "?";
    var latency = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("Latency", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] ?? "?";
    var non2xx = Find("Non-2xx or 3xx responses:");
    return $"| {(size >= 1 << 20 ? "1 MiB" : "4 KiB")} | {label} | {Find("Requests/sec:")} | {Find("Transfer/sec:")} | {latency} | {(non2xx == "?" ? "0" : non2xx)} |";
}

return 0;

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}
