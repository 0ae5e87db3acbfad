using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Server;

/// <summary>Runs the engine for the lifetime of the process's host (SIGINT/SIGTERM stop it).</summary>
internal sealed class LwsServerService(LwsServerOptions options, ILoggerFactory loggerFactory, TimeProvider time) : IHostedService, IAsyncDisposable
{
    private LwsContext? _context;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _context = new LwsContext(options, loggerFactory, time);
        await _context.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _context, null) is { } context)
        {
            await context.DisposeAsync().ConfigureAwait(false);
        }
    }
}
