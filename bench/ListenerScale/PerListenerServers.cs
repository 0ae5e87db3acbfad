using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

/// <summary>
/// The design the engine did not take, measured for comparison: one Kestrel server per listener, all built from one
/// shared service provider and one socket transport factory. Reports threads and RSS added by <c>count</c> servers.
/// </summary>
internal static class PerListenerServers
{
    public static async Task<int> RunAsync(int count)
    {
        var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        var loggerFactory = NullLoggerFactory.Instance;
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggerFactory);
        var before = Sample();
        var servers = new List<KestrelServer>(count);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var options = new KestrelServerOptions { ApplicationServices = services };
            options.Listen(new IPEndPoint(IPAddress.Loopback, 0));
            var server = new KestrelServer(Options.Create(options), transport, loggerFactory);
            await server.StartAsync(new OkApplication(), CancellationToken.None);
            servers.Add(server);
        }

        var createMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds / count;
        await Task.Delay(1000);
        var with = Sample();
        foreach (var server in servers)
        {
            await server.StopAsync(CancellationToken.None);
            server.Dispose();
        }

        await Task.Delay(1000);
        var after = Sample();
        Console.WriteLine($"| one KestrelServer per listener, shared services ({count}) | threads {before.Threads} / {with.Threads} (+{with.Threads - before.Threads}) / {after.Threads} | " +
            $"RSS per listener {(with.RssKiB - before.RssKiB) / (double)count:F0} KiB | create {createMs:F2} ms each |");
        return 0;
    }

    private static (int Threads, long RssKiB) Sample()
    {
        var status = File.ReadAllLines("/proc/self/status");
        int threads = int.Parse(status.First(l => l.StartsWith("Threads:", StringComparison.Ordinal))[8..].Trim(), CultureInfo.InvariantCulture);
        long rss = long.Parse(status.First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return (threads, rss);
    }

    private sealed class OkApplication : IHttpApplication<IFeatureCollection>
    {
        public IFeatureCollection CreateContext(IFeatureCollection contextFeatures) => contextFeatures;

        public Task ProcessRequestAsync(IFeatureCollection context)
        {
            context.Get<IHttpResponseFeature>()!.StatusCode = 200;
            return Task.CompletedTask;
        }

        public void DisposeContext(IFeatureCollection context, Exception? exception)
        {
        }
    }
}
