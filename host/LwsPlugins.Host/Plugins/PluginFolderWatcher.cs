using LwsPlugins.Host.Logging;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Plugins;

/// <summary>
/// Watches the plugins folder (our own watcher, not McMaster's hot reload: see DESIGN §6): a create, change, rename or
/// delete of any file below <c>plugins/&lt;id&gt;/</c> schedules a reload of that plugin once its files have been quiet
/// for the debounce time, so a build that writes many files, or a copy-then-rename deploy, gives one reload.
/// </summary>
internal sealed class PluginFolderWatcher : IAsyncDisposable
{
    private readonly string _root;
    private readonly TimeSpan _debounce;
    private readonly TimeProvider _time;
    private readonly Func<string, Task<PluginChange?>> _reload;
    private readonly ILogger _logger;
    private readonly FileSystemWatcher _watcher;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ITimer> _pending = new(StringComparer.Ordinal);
    private int _observed;
    private bool _disposed;

    public PluginFolderWatcher(string root, TimeSpan debounce, TimeProvider time, Func<string, Task<PluginChange?>> reload, ILoggerFactory loggerFactory)
    {
        _root = Path.GetFullPath(root);
        _debounce = debounce;
        _time = time;
        _reload = reload;
        _logger = loggerFactory.CreateLogger("LwsPlugins.Host.Plugins.PluginFolderWatcher");
        _watcher = new FileSystemWatcher(_root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Created += (_, e) => Observe(e.FullPath);
        _watcher.Changed += (_, e) => Observe(e.FullPath);
        _watcher.Deleted += (_, e) => Observe(e.FullPath);
        _watcher.Renamed += (_, e) =>
        {
            Observe(e.OldFullPath);
            Observe(e.FullPath);
        };
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>How many file events have been seen (lets tests know a change was noticed before they move fake time).</summary>
    public int ObservedChanges => Volatile.Read(ref _observed);

    /// <summary>How many plugin folders wait for their debounce to end.</summary>
    public int PendingReloads
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        ITimer[] timers;
        lock (_gate)
        {
            _disposed = true;
            timers = [.. _pending.Values];
            _pending.Clear();
        }

        _watcher.Dispose();
        foreach (var timer in timers)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Observe(string path)
    {
        var relative = Path.GetRelativePath(_root, path);
        if (relative.StartsWith("..", StringComparison.Ordinal) || relative == ".")
        {
            return;
        }

        var folder = relative.Split(Path.DirectorySeparatorChar)[0];
        if (folder.StartsWith('.'))
        {
            return;
        }

        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if (_pending.TryGetValue(folder, out var timer))
            {
                timer.Change(_debounce, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _pending[folder] = _time.CreateTimer(static state =>
                {
                    var (watcher, name) = ((PluginFolderWatcher, string))state!;
                    _ = watcher.ReloadAsync(name);
                }, (this, folder), _debounce, Timeout.InfiniteTimeSpan);
            }
        }

        Interlocked.Increment(ref _observed);
        Log.PluginFolderChanged(_logger, folder);
    }

    private async Task ReloadAsync(string folder)
    {
        ITimer? timer;
        lock (_gate)
        {
            if (_disposed || !_pending.Remove(folder, out timer))
            {
                return;
            }
        }

        await timer.DisposeAsync().ConfigureAwait(false);
        await _reload(Path.Combine(_root, folder)).ConfigureAwait(false);
    }
}
