using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Vfs;
using LwsPlugins.Host.Vfs.StaticFiles;
using LwsPlugins.Host.Vhosts;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging.Abstractions;

namespace Micro;

/// <summary>
/// One GET of a 7 KiB file through a mount's pipeline (issue 24), on a DefaultHttpContext writing to Stream.Null: with
/// the file cache (a hit: lookup, change-token statx, headers, one write) and without it (DefaultFiles, the 415 check,
/// StaticFileMiddleware with its provider lookup and realpath). The context itself is the same in both.
/// </summary>
[MemoryDiagnoser]
public class StaticFileBenchmarks
{
    private string _root = null!;
    private RequestDelegate _cached = null!;
    private RequestDelegate _uncached = null!;

    [GlobalSetup]
    public void Setup()
    {
        _root = Directory.CreateTempSubdirectory("lws-micro-static-").FullName;
        File.WriteAllText(Path.Combine(_root, "test.html"), new string('x', 7205));
        _cached = Build(new VirtualFileSystem { FileCache = new StaticFileCache(new StaticFileCacheOptions(), TimeProvider.System) });
        _uncached = Build(new VirtualFileSystem { FileCache = new StaticFileCache(new StaticFileCacheOptions { Enabled = false }, TimeProvider.System) });
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark(Baseline = true)]
    public Task Uncached() => _uncached(Request());

    [Benchmark]
    public Task Cached() => _cached(Request());

    private static DefaultHttpContext Request()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/test.html";
        context.Response.Body = Stream.Null;
        return context;
    }

    private RequestDelegate Build(VirtualFileSystem vfs)
    {
        var services = new ServiceCollection()
            .AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>))
            .AddSingleton<IWebHostEnvironment>(new Environment(_root))
            .BuildServiceProvider();
        var app = new ApplicationBuilder(services);
        MountPipeline.UsePathGuard(app);
        MountPipeline.Add(app, "bench", new MountOptions { MountPoint = "/", Origin = _root }, 0, _root, vfs);
        app.Run(context =>
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        return app.Build();
    }

    private sealed class Environment(string root) : IWebHostEnvironment
    {
        public string WebRootPath { get; set; } = root;

        public IFileProvider WebRootFileProvider { get; set; } = new NullFileProvider();

        public string ApplicationName { get; set; } = "bench";

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();

        public string ContentRootPath { get; set; } = root;

        public string EnvironmentName { get; set; } = "Production";
    }
}
