using LwsPlugins.Host.Logging;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Plugins;

/// <summary>
/// Watches the plugins folder (our own watcher, not McMaster's hot reload: see DESIGN §6). A create, change, rename or
/// delete of any file below <c>plugins/&lt;id&gt;/</c> makes that plugin a candidate for a reload; it is reloaded once its
/// files have been quiet for the quiet period and are ready (<see cref="PluginFolderReadiness"/>): the same sizes and
/// times across two looks a settle time apart, and a whole build. So a build that writes many files, or a
/// copy-then-rename deploy, gives one reload, and a half-written build is never loaded. A folder whose files stay the
/// same but never become whole is loaded after <see cref="IncompleteGrace"/>, so that its failure is reported.
/// A plugins folder that does not exist (yet, or any more) is watched from its nearest existing parent: when it
/// appears, every plugin in it loads; when it goes, every plugin of it is removed.
/// </summary>
internal sealed class PluginFolderWatcher : IAsyncDisposable
{
    /// <summary>How long a folder whose files do not change may stay incomplete before it is loaded anyway.</summary>
    public static readonly TimeSpan IncompleteGrace = TimeSpan.FromSeconds(2);

    private readonly string _root;
    private readonly TimeSpan _quiet;
    private readonly TimeSpan _settle;
    private readonly TimeProvider _time;
    private readonly Func<string, Task<PluginChange?>> _reload;
    private readonly Func<IEnumerable<string>> _knownPlugins;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Candidate> _pending = new(StringComparer.Ordinal);
    private FileSystemWatcher? _folderWatcher;
    private FileSystemWatcher? _parentWatcher;
    private string? _parentWatched;
    private int _observed;
    private bool _disposed;

    /// <param name="root">The plugins folder; it need not exist.</param>
    /// <param name="quiet">How long a plugin's files must be free of change notifications before they are looked at.</param>
    /// <param name="settle">The time between the two looks that must find the same files.</param>
    /// <param name="time">The clock of the timers.</param>
    /// <param name="reload">Loads, reloads or removes the plugin in one folder.</param>
    /// <param name="knownPlugins">The folder names of the plugins loaded so far, to remove them when the plugins folder goes.</param>
    /// <param name="loggerFactory">Where the watcher logs.</param>
    public PluginFolderWatcher(
        string root, TimeSpan quiet, TimeSpan settle, TimeProvider time, Func<string, Task<PluginChange?>> reload, Func<IEnumerable<string>> knownPlugins, ILoggerFactory loggerFactory)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _quiet = quiet;
        _settle = settle;
        _time = time;
        _reload = reload;
        _knownPlugins = knownPlugins;
        _logger = loggerFactory.CreateLogger("LwsPlugins.Host.Plugins.PluginFolderWatcher");
        lock (_gate)
        {
            Attach(initial: true);
        }
    }

    /// <summary>How many file events have been seen (lets tests know a change was noticed before they move fake time).</summary>
    public int ObservedChanges => Volatile.Read(ref _observed);

    /// <summary>Whether the plugins folder itself is watched now (it exists); otherwise its nearest existing parent is.</summary>
    public bool WatchesFolder
    {
        get
        {
            lock (_gate)
            {
                return _folderWatcher is not null;
            }
        }
    }

    /// <summary>How many plugin folders wait to be quiet and ready.</summary>
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
            timers = [.. _pending.Values.Select(c => c.Timer)];
            _pending.Clear();
            _folderWatcher?.Dispose();
            _parentWatcher?.Dispose();
        }

        foreach (var timer in timers)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Watches the plugins folder when it exists, and always the folder above the first missing (or the last) part of its
    /// path, so that the plugins folder appearing or going is seen. Called under <see cref="_gate"/>.
    /// </summary>
    private void Attach(bool initial)
    {
        while (true)
        {
            var exists = Directory.Exists(_root);
            if (exists && _folderWatcher is null)
            {
                _folderWatcher = CreateWatcher(_root, filter: null, recursive: true, OnFolderEvent);
                if (!initial)
                {
                    Log.PluginsFolderAppeared(_logger, _root);
                }

                // What was copied in before the watcher started gives no event of its own.
                foreach (var directory in Directory.EnumerateDirectories(_root))
                {
                    ObserveLocked(Path.Combine(directory, "."));
                }
            }
            else if (!exists && _folderWatcher is not null)
            {
                _folderWatcher.Dispose();
                _folderWatcher = null;
                Log.PluginsFolderGone(_logger, _root);
                foreach (var plugin in _knownPlugins())
                {
                    ObserveLocked(Path.Combine(_root, plugin, "."));
                }
            }

            // The parent to watch: the plugins folder's own parent when it exists, else the nearest existing ancestor.
            var child = _root;
            var parent = Path.GetDirectoryName(child);
            while (parent is not null && !exists && !Directory.Exists(parent))
            {
                child = parent;
                parent = Path.GetDirectoryName(child);
            }

            if (parent is null)
            {
                return;
            }

            if (_parentWatched != child)
            {
                _parentWatcher?.Dispose();
                _parentWatcher = CreateWatcher(parent, Path.GetFileName(child), recursive: false, OnParentEvent);
                _parentWatched = child;
                if (!exists)
                {
                    Log.PluginsFolderMissingWatchingParent(_logger, _root, parent);
                }
            }

            // The watcher exists now; if the path changed while it was being made, look again.
            if (Directory.Exists(_root) == exists && (exists || !Directory.Exists(child)))
            {
                return;
            }
        }
    }

    private static FileSystemWatcher CreateWatcher(string path, string? filter, bool recursive, Action<string> onEvent)
    {
        var watcher = new FileSystemWatcher(path)
        {
            IncludeSubdirectories = recursive,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        if (filter is not null)
        {
            watcher.Filter = filter;
        }

        watcher.Created += (_, e) => onEvent(e.FullPath);
        watcher.Changed += (_, e) => onEvent(e.FullPath);
        watcher.Deleted += (_, e) => onEvent(e.FullPath);
        watcher.Renamed += (_, e) =>
        {
            onEvent(e.OldFullPath);
            onEvent(e.FullPath);
        };
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private void OnParentEvent(string path)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                Attach(initial: false);
            }
        }
    }

    private void OnFolderEvent(string path)
    {
        lock (_gate)
        {
            ObserveLocked(path);
        }
    }

    private void ObserveLocked(string path)
    {
        var relative = Path.GetRelativePath(_root, path);
        if (_disposed || relative.StartsWith("..", StringComparison.Ordinal) || relative == ".")
        {
            return;
        }

        var folder = relative.Split(Path.DirectorySeparatorChar)[0];
        if (folder.StartsWith('.'))
        {
            return;
        }

        if (_pending.TryGetValue(folder, out var candidate))
        {
            candidate.Quiet();
            candidate.Timer.Change(_quiet, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _pending[folder] = new Candidate(_time.CreateTimer(static state =>
            {
                var (watcher, name) = ((PluginFolderWatcher, string))state!;
                watcher.Look(name);
            }, (this, folder), _quiet, Timeout.InfiniteTimeSpan));
        }

        Interlocked.Increment(ref _observed);
        Log.PluginFolderChanged(_logger, folder);
    }

    /// <summary>A timer of a candidate fired: look at its files; reload when two looks agree and the build is whole.</summary>
    private void Look(string folder)
    {
        var directory = Path.Combine(_root, folder);
        var look = PluginFolderReadiness.Look(directory);
        var incomplete = look == "gone" ? null : PluginFolderReadiness.FindIncomplete(directory);
        ITimer? done = null;
        lock (_gate)
        {
            if (_disposed || !_pending.TryGetValue(folder, out var candidate))
            {
                return;
            }

            var now = _time.GetTimestamp();
            if (candidate.LastLook != look)
            {
                // First look after the quiet period, or the files moved since the last look: look again a settle time later.
                candidate.Looked(look, now);
                candidate.Timer.Change(_settle, Timeout.InfiniteTimeSpan);
                return;
            }

            if (incomplete is not null && _time.GetElapsedTime(candidate.StableSince, now) < IncompleteGrace)
            {
                if (!candidate.ToldIncomplete)
                {
                    candidate.ToldIncomplete = true;
                    Log.PluginFolderNotReady(_logger, folder, incomplete);
                }

                candidate.Timer.Change(_settle, Timeout.InfiniteTimeSpan);
                return;
            }

            _pending.Remove(folder);
            done = candidate.Timer;
        }

        done.Dispose();
        _ = ReloadAsync(directory);
    }

    private async Task ReloadAsync(string directory)
    {
        try
        {
            await _reload(directory).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.PluginReloadFailed(_logger, ex, directory);
        }
    }

    /// <summary>A plugin folder waiting to be reloaded: its timer and what the last look saw.</summary>
    private sealed class Candidate(ITimer timer)
    {
        public ITimer Timer { get; } = timer;

        public string? LastLook { get; private set; }

        public long StableSince { get; private set; }

        public bool ToldIncomplete { get; set; }

        /// <summary>A change notification: the next look starts over.</summary>
        public void Quiet() => LastLook = null;

        public void Looked(string look, long now)
        {
            LastLook = look;
            StableSince = now;
        }
    }
}
