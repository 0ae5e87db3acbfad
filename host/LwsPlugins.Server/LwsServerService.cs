using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Text.Json;
using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using LwsPlugins.Server.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Server;

/// <summary>
/// Runs the engine for the lifetime of the process's host (SIGINT/SIGTERM stop it). With a configuration file, its vhosts
/// and its conf.d folder are kept live (file changes and SIGHUP reload them). SIGUSR1 toggles a second vhost on the first
/// vhost's port + 1 serving the same protocols, as lws's test server does.
/// </summary>
internal sealed partial class LwsServerService(ServerSettings settings, ILoggerFactory loggerFactory, TimeProvider time, IMeterFactory meterFactory)
    : IHostedService, IAsyncDisposable
{
    private const PosixSignal SignalUser1 = (PosixSignal)10;

    private readonly ILogger _logger = loggerFactory.CreateLogger("LwsPlugins.Server");
    private readonly SemaphoreSlim _toggleGate = new(1, 1);
    private LwsContext? _context;
    private LiveConfiguration? _live;
    private PosixSignalRegistration? _hangUp;
    private PosixSignalRegistration? _user1;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _secondVhost;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Registered first: a signal that arrives while the server starts is handled once it has started, never fatal.
        _hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
        {
            signal.Cancel = true;
            _ = AfterStartAsync(ReloadAsync);
        });
        _user1 = PosixSignalRegistration.Create(SignalUser1, signal =>
        {
            signal.Cancel = true;
            _ = AfterStartAsync(ToggleSecondVhostAsync);
        });

        var options = settings.Options;
        if (settings.ConfigFile is not null)
        {
            // The live configuration creates the configured vhosts, at start as on every reload; every server-wide
            // setting of the file applies from the start.
            options = new LwsServerOptions
            {
                PluginsPath = options.PluginsPath,
                DestroyDelayMs = options.DestroyDelayMs,
                ConfD = options.ConfD,
                HandshakeTimeoutMs = options.HandshakeTimeoutMs,
                WatchPlugins = options.WatchPlugins,
                PluginReloadDebounceMs = options.PluginReloadDebounceMs,
                PluginReloadSettleMs = options.PluginReloadSettleMs,
                LogLevels = options.LogLevels,
                Otlp = options.Otlp,
                Backplane = options.Backplane,
                Admin = options.Admin,
                FileProviders = options.FileProviders,
                StaticFileCache = options.StaticFileCache,
                User = options.User,
                Group = options.Group,
                Uid = options.Uid,
                Gid = options.Gid,
            };
        }

        _context = new LwsContext(options, loggerFactory, time, meterFactory: meterFactory);
        await _context.StartAsync(cancellationToken).ConfigureAwait(false);
        if (settings.ConfigFile is { } file)
        {
            var lwsws = settings.Lwsws;
            if (lwsws?.UnsupportedAtStart is { Count: > 0 } unsupported)
            {
                LogUnsupported(_logger, unsupported.Count, string.Join("; ", unsupported));
            }

            _live = new LiveConfiguration(_context, file, settings.ConfD, time, loggerFactory, parseVhosts: lwsws is null ? null : lwsws.ParseVhosts);
            await _live.LoadAsync(cancellationToken).ConfigureAwait(false);

            // The start-up message above named every file's keys; from here each file edited or added names its own.
            lwsws?.Started(_logger);
            _live.StartWatching();
        }

        // Every start-up listen socket is bound and every start-up file open: now the process may leave root.
        if (settings.User is not null || settings.Group is not null)
        {
            _context.DropPrivileges(settings.User, settings.Group);
        }

        _started.TrySetResult();
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        _hangUp?.Dispose();
        _user1?.Dispose();
        if (Interlocked.Exchange(ref _live, null) is { } live)
        {
            await live.DisposeAsync().ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _context, null) is { } context)
        {
            await context.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task AfterStartAsync(Func<Task> action)
    {
        await _started.Task.ConfigureAwait(false);
        await action().ConfigureAwait(false);
    }

    private async Task ReloadAsync()
    {
        if (_live is null)
        {
            LogNoConfiguration(_logger);
            return;
        }

        LogReloading(_logger);
        await _live.ReloadAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async Task ToggleSecondVhostAsync()
    {
        await _toggleGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_context is not { } context || settings.Options.Vhosts.FirstOrDefault() is not { } template)
            {
                return;
            }

            if (_secondVhost is { } existing)
            {
                _secondVhost = null;
                await context.DestroyVhostAsync(existing, CancellationToken.None).ConfigureAwait(false);
                LogToggled(_logger, "destroyed", existing);
                return;
            }

            if (context.GetEndPoint(template.Name) is not { } first)
            {
                return;
            }

            var second = JsonSerializer.Deserialize<VhostOptions>(JsonSerializer.Serialize(template))!;
            second.Name = $"{template.Name}-{first.Port + 1}";
            second.Port = first.Port + 1;
            if (template.Tls is { ServerCertificate: { } generated })
            {
                // The generated certificate of -s is not serialised: the clone shares it.
                second.Tls!.ServerCertificate = generated;
            }

            var endPoint = await context.CreateVhostAsync(second, CancellationToken.None).ConfigureAwait(false);
            _secondVhost = second.Name;
            LogToggled(_logger, "created", $"{second.Name} on {endPoint}");
        }
        catch (LwsConfigurationException ex)
        {
            LogToggleFailed(_logger, ex.Message);
        }
        finally
        {
            _toggleGate.Release();
        }
    }

    [LoggerMessage(1100, LogLevel.Warning, "lwsws configuration: {Count} keys have no equivalent here and are not applied: {Keys}")]
    private static partial void LogUnsupported(ILogger logger, int count, string keys);

    [LoggerMessage(600, LogLevel.Information, "SIGUSR1: {Action} vhost {Vhost}")]
    private static partial void LogToggled(ILogger logger, string action, string vhost);

    [LoggerMessage(601, LogLevel.Error, "SIGUSR1: could not create the second vhost: {Reason}")]
    private static partial void LogToggleFailed(ILogger logger, string reason);

    [LoggerMessage(602, LogLevel.Information, "SIGHUP: reloading the configuration")]
    private static partial void LogReloading(ILogger logger);

    [LoggerMessage(603, LogLevel.Warning, "SIGHUP: no configuration file to reload (the server runs on its embedded default)")]
    private static partial void LogNoConfiguration(ILogger logger);
}
