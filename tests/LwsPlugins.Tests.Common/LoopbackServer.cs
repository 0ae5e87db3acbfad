using System.Net;
using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Tests.Common;

/// <summary>A real engine on 127.0.0.1 with a system-chosen port, loading plugins from a folder on disk.</summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private LoopbackServer(LwsContext context, CapturingLoggerProvider logs, ILoggerFactory loggerFactory)
    {
        Context = context;
        Logs = logs;
        LoggerFactory = loggerFactory;
    }

    /// <summary>The folder the build deploys the bundled plugins to, beside the test assembly.</summary>
    public static string BundledPluginsPath => Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>The folder the build deploys the test-only plugins to.</summary>
    public static string TestPluginsPath => Path.Combine(AppContext.BaseDirectory, "test-plugins");

    public LwsContext Context { get; }

    public CapturingLoggerProvider Logs { get; }

    public ILoggerFactory LoggerFactory { get; }

    public static async Task<LoopbackServer> StartAsync(string pluginsPath, params VhostOptions[] vhosts)
        => await StartAsync(pluginsPath, TimeProvider.System, vhosts);

    public static async Task<LoopbackServer> StartAsync(string pluginsPath, TimeProvider time, params VhostOptions[] vhosts)
        => await StartAsync(new LwsServerOptions { PluginsPath = pluginsPath, Vhosts = vhosts }, time);

    public static async Task<LoopbackServer> StartAsync(LwsServerOptions options, TimeProvider time)
    {
        var logs = new CapturingLoggerProvider();
        var loggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var context = new LwsContext(options, loggerFactory, time);
        try
        {
            await context.StartAsync(CancellationToken.None);
        }
        catch
        {
            await context.DisposeAsync();
            loggerFactory.Dispose();
            throw;
        }

        return new LoopbackServer(context, logs, loggerFactory);
    }

    /// <summary>A vhost on 127.0.0.1, port 0, serving the given protocols.</summary>
    public static VhostOptions Vhost(string name, params string[] protocols) => new()
    {
        Name = name,
        Address = "127.0.0.1",
        Port = 0,
        Protocols = [.. protocols.Select(p => new ProtocolSelection(p))],
    };

    public IPEndPoint EndPoint(string vhost) => Context.GetEndPoint(vhost) ?? throw new InvalidOperationException($"no vhost '{vhost}'");

    public Uri WebSocketUri(string vhost, string pathAndQuery = "/") => new($"ws://{EndPoint(vhost)}{pathAndQuery}");

    public Uri HttpUri(string vhost, string pathAndQuery = "/") => new($"http://{EndPoint(vhost)}{pathAndQuery}");

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        LoggerFactory.Dispose();
    }
}
