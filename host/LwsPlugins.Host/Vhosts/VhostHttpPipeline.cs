using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Diagnostics;
using LwsPlugins.Host.Vfs;
using LwsPlugins.Sdk.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// What a vhost answers to plain HTTP, built from one version of its definition: health and observability paths, the
/// access log, the path guard and the mounts (static, <c>callback://</c>) in longest-mount-point-first order. A changed
/// definition builds a new pipeline beside the old one, which the vhost then swaps in one step; the old one is disposed
/// once the requests that entered it are done.
/// </summary>
internal sealed class VhostHttpPipeline : IAsyncDisposable
{
    private readonly List<IDisposable> _fileProviders;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;
    private int _disposed;
    private volatile bool _retired;

    private VhostHttpPipeline(RequestDelegate handle, AccessLog? accessLog, List<IDisposable> fileProviders)
    {
        Handle = handle;
        AccessLog = accessLog;
        _fileProviders = fileProviders;
    }

    /// <summary>The pipeline of a vhost that has none yet: every request is 404.</summary>
    public static VhostHttpPipeline Empty { get; } = new(NotFound, null, []);

    public RequestDelegate Handle { get; }

    /// <summary>The vhost's access log, when its definition asks for one.</summary>
    public AccessLog? AccessLog { get; }

    /// <summary>
    /// Builds the pipeline of <paramref name="options"/> for <paramref name="vhost"/>, whose callback mounts resolve in
    /// <paramref name="protocols"/> (the protocols the vhost serves once this pipeline is in place).
    /// </summary>
    /// <exception cref="LwsConfigurationException">A mount or address rule of the definition cannot be served.</exception>
    public static VhostHttpPipeline Build(
        Vhost vhost, VhostOptions options, IReadOnlyList<VhostProtocol> protocols, IServiceProvider services, string baseDirectory, VirtualFileSystem vfs, ILogger logger)
    {
        var app = new ApplicationBuilder(services);
        if (options.HealthPath is { } health)
        {
            app.UseHealthChecks(health + "/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") });
            app.UseHealthChecks(health + "/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        }

        if (vhost.Observability is { } observability)
        {
            if (options.MetricsPath is not null)
            {
                observability.StartMetrics();
            }

            var allowed = (options.ObservabilityAllowFrom ?? []).Select(a => Observability.TryParseAllowed(a, out var n) ? n : throw new LwsConfigurationException($"vhost '{options.Name}': observabilityAllowFrom: '{a}' is not an address or network.")).ToArray();
            UseObservability(app, options.MetricsPath, allowed, observability.WriteMetricsAsync);
            UseObservability(app, options.StatusPath, allowed, observability.WriteStatusAsync);
        }

        var fileProviders = new List<IDisposable>();
        try
        {
            MountPipeline.UsePathGuard(app);
            foreach (var (mount, index) in options.Mounts.Select((m, i) => (m, i)).OrderByDescending(m => m.m.MountPoint.TrimEnd('/').Length))
            {
                if (mount.CallbackProtocol is { } callbackProtocol)
                {
                    AddCallbackMount(app, vhost, options.Name, protocols, mount, callbackProtocol, index, logger);
                }
                else if (MountPipeline.Add(app, options.Name, mount, index, baseDirectory, vfs) is { } provider)
                {
                    fileProviders.Add(provider);
                }
            }
        }
        catch
        {
            foreach (var provider in fileProviders)
            {
                provider.Dispose();
            }

            throw;
        }

        app.Run(NotFound);

        // Last: nothing above can fail once the file is open.
        var accessLog = options.AccessLog is { } path
            ? new AccessLog(
                Path.Combine(baseDirectory, path),
                new AccessLogRotation(options.AccessLogRotateDaily, options.AccessLogMaxBytes, options.AccessLogKeepFiles),
                vhost.Traffic.Metrics.AccessLogDropped,
                options.Name)
            : null;
        return new VhostHttpPipeline(app.Build(), accessLog, fileProviders);
    }

    /// <summary>Answers <c>GET</c>/<c>HEAD</c> on exactly <paramref name="path"/> for allowed clients (403 for others).</summary>
    private static void UseObservability(ApplicationBuilder app, string? path, System.Net.IPNetwork[] allowed, RequestDelegate answer)
    {
        if (path is null)
        {
            return;
        }

        app.Use(next => http =>
        {
            if (!http.Request.Path.Equals(path, StringComparison.Ordinal) || !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method)))
            {
                return next(http);
            }

            if (!Observability.IsAllowed(http.Connection.RemoteIpAddress, allowed))
            {
                http.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            }

            return answer(http);
        });
    }

    private static void AddCallbackMount(
        IApplicationBuilder app, Vhost vhost, string vhostName, IReadOnlyList<VhostProtocol> protocols, MountOptions mount, string name, int index, ILogger logger)
    {
        var protocol = protocols.FirstOrDefault(p => p.Name == name)
            ?? throw new LwsConfigurationException($"vhost '{vhostName}': mounts[{index}].origin: '{mount.Origin}' names protocol '{name}', which the vhost does not list in its protocols.");
        if (protocol.Current is { Handler: not IHttpRequestHandler } current)
        {
            throw new LwsConfigurationException(
                $"vhost '{vhostName}': mounts[{index}].origin: protocol '{name}' (plugin '{current.PluginId}') does not handle HTTP requests: its handler does not implement LwsPlugins.Sdk.Http.IHttpRequestHandler.");
        }

        var mountPoint = mount.MountPoint == "/" ? PathString.Empty : new PathString(mount.MountPoint.TrimEnd('/'));
        var callback = new CallbackMount(vhost, protocol, mountPoint, logger);
        app.Use((context, next) => context.Request.Path.StartsWithSegments(mountPoint, out var rest) ? callback.InvokeAsync(context, rest) : next(context));
    }

    /// <summary>A request enters the pipeline; pair with <see cref="Exit"/>. See <see cref="Vhost"/> for the re-check after a swap.</summary>
    public void Enter() => Interlocked.Increment(ref _requests);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _requests) == 0 && _retired)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>The pipeline was swapped out: it is disposed once the last request that entered it is done.</summary>
    public async Task RetireAsync()
    {
        _retired = true;
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _requests) == 0)
        {
            _drained.TrySetResult();
        }

        await _drained.Task.ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var provider in _fileProviders)
        {
            provider.Dispose();
        }

        if (AccessLog is not null)
        {
            await AccessLog.DisposeAsync().ConfigureAwait(false);
        }
    }
}
