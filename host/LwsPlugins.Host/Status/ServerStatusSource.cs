using System.Collections.Immutable;
using System.Net;
using System.Reflection;
using LwsPlugins.Host.Plugins;
using LwsPlugins.Host.Vhosts;
using LwsPlugins.Sdk.Status;

namespace LwsPlugins.Host.Status;

/// <summary>Builds status snapshots from the context's vhosts and plugin catalog.</summary>
internal sealed class ServerStatusSource(Func<IReadOnlyList<Vhost>> vhosts, PluginCatalog catalog, TimeProvider time, Func<BackplaneStatus>? backplane = null) : IServerStatusSource
{
    private readonly Lock _gate = new();
    private ImmutableArray<Action> _subscribers = [];
    private readonly PerformanceSampler _performance = PerformanceSampler.StartingIdle(time);

    public string ServerVersion { get; } = "LwsPlugins/" + (typeof(ServerStatusSource).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0");

    public string HostName { get; } = Dns.GetHostName();

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public IDisposable Subscribe(Action onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        lock (_gate)
        {
            _subscribers = _subscribers.Add(onChange);
        }

        return new Subscription(this, onChange);
    }

    /// <summary>Tells subscribers that something the snapshot shows has changed.</summary>
    public void NotifyChanged()
    {
        foreach (var subscriber in _subscribers)
        {
            try
            {
                subscriber();
            }
            catch (Exception)
            {
                // A subscriber's fault must not break the engine path that reported the change.
            }
        }
    }

    public ServerStatusSnapshot GetSnapshot()
    {
        var process = DescribeProcess();
        var all = vhosts();
        return new()
        {
            ServerVersion = ServerVersion,
            HostName = HostName,
            Time = time.GetUtcNow(),
            StartedAt = StartedAt,
            Process = process,
            Performance = _performance.Sample(
                all.Sum(v => v.SessionCount), all.Sum(v => v.Traffic.MessagesIn), all.Sum(v => v.Traffic.MessagesOut), all.Sum(v => v.Traffic.BytesOut),
                process.WorkingSetBytes, process.GcHeapBytes),
            Vhosts = [.. all.Select(Describe)],
            Plugins = [.. catalog.Plugins.Select(Describe)],
            Backplane = backplane?.Invoke(),
        };
    }

    private void Unsubscribe(Action onChange)
    {
        lock (_gate)
        {
            _subscribers = _subscribers.Remove(onChange);
        }
    }

    private static ProcessStatus DescribeProcess()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return new ProcessStatus
        {
            CpuSeconds = process.TotalProcessorTime.TotalSeconds,
            WorkingSetBytes = Environment.WorkingSet,
            GcHeapBytes = GC.GetTotalMemory(forceFullCollection: false),
            GcCollections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)],
            Threads = process.Threads.Count,
        };
    }

    private static VhostStatus Describe(Vhost vhost) => new()
    {
        Name = vhost.Name,
        Listen = vhost.EndPoint is { } endPoint ? Listeners.ListenEndPoints.Display(endPoint) : $"{vhost.Address}:{vhost.Options.Port}",
        State = vhost.State == VhostState.Serving ? "serving" : "destroying",
        Sessions = vhost.SessionCount,
        BytesIn = vhost.Traffic.BytesIn,
        BytesOut = vhost.Traffic.BytesOut,
        MessagesIn = vhost.Traffic.MessagesIn,
        MessagesOut = vhost.Traffic.MessagesOut,
        Protocols = [.. vhost.Protocols.Select(p => new ProtocolStatus
        {
            Name = p.Name,
            PluginId = p.PluginId,
            Generation = p.Generation,
            State = p.IsAvailable ? "available" : "unavailable",
            UnavailableReason = p.UnavailableReason,
            SelectedBy = p.Listed ? "list" : "all-plugins",
            Sessions = p.Sessions,
            CallbackTimeouts = p.CallbackTimeouts,
        })],
    };

    private static PluginStatus Describe(PluginEntry plugin) => new()
    {
        Id = plugin.Id,
        Path = plugin.Directory,
        Generations = [.. plugin.Generations.Select(g => new PluginGenerationStatus
        {
            Number = g.Number,
            Version = g.Manifest?.Version.ToNormalizedString(),
            State = g.State.ToString().ToLowerInvariant(),
            Error = g.Error,
            LoadedAt = g.LoadedAt,
            Protocols = [.. g.Manifest?.Protocols.Select(p => p.Name) ?? []],
        })],
    };

    private sealed class Subscription(ServerStatusSource source, Action onChange) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                source.Unsubscribe(onChange);
            }
        }
    }
}
