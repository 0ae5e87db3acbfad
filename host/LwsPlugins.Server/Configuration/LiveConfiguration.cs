using LwsPlugins.Host;
using LwsPlugins.Host.Configuration;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Server.Configuration;

/// <summary>
/// Keeps the context's configured vhosts equal to what the configuration says, in the spirit of lwsws: a global file
/// plus a <c>conf.d</c> folder with one vhost (or an array of vhosts) per file, read again on a change (watched) or on
/// SIGHUP. It hands the whole desired state to the engine (<see cref="LwsContext.ApplyAsync"/>), which creates, changes
/// in place (sessions kept) or destroys vhosts. A file that fails validation is reported (file, key, reason) once per
/// change of that file and its last good state stays. Only vhosts created from configuration are touched, never those
/// made through the admin API.
/// </summary>
public sealed class LiveConfiguration : IAsyncDisposable
{
    private readonly LwsContext _context;
    private readonly string? _globalFile;
    private readonly string? _confD;
    private readonly TimeProvider _time;
    private readonly TimeSpan _debounce;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly Lock _timerGate = new();
    private readonly Dictionary<string, IReadOnlyList<VhostOptions>> _lastGood = new(StringComparer.Ordinal);

    // What each broken file held when its error was logged: a reload caused by another file does not log it again.
    private readonly Dictionary<string, string> _reportedBroken = new(StringComparer.Ordinal);
    private readonly List<FileSystemWatcher> _watchers = [];
    private ITimer? _debounceTimer;
    private readonly Func<string, string, IReadOnlyList<VhostOptions>>? _parseVhosts;

    /// <summary>Creates the live configuration; nothing is read until <see cref="LoadAsync"/>.</summary>
    /// <param name="context">The context whose vhosts it manages.</param>
    /// <param name="globalFile">The global configuration file, whose <c>vhosts</c> it manages, or <see langword="null"/>.</param>
    /// <param name="confD">The <c>conf.d</c> folder, or <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock for the debounce of file changes.</param>
    /// <param name="loggerFactory">Where changes and rejections are logged.</param>
    /// <param name="debounce">How long file changes must settle before a reload; 250 ms by default.</param>
    /// <param name="parseVhosts">Reads a file's vhosts from its text and path in another format (lwsws); our JSON when unset.</param>
    public LiveConfiguration(
        LwsContext context, string? globalFile, string? confD, TimeProvider timeProvider, ILoggerFactory loggerFactory, TimeSpan? debounce = null,
        Func<string, string, IReadOnlyList<VhostOptions>>? parseVhosts = null)
    {
        _parseVhosts = parseVhosts;
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _context = context;
        _globalFile = globalFile is null ? null : Path.GetFullPath(globalFile);
        _confD = confD is null ? null : Path.GetFullPath(confD);
        _time = timeProvider;
        _debounce = debounce ?? TimeSpan.FromMilliseconds(250);
        _logger = loggerFactory.CreateLogger("LwsPlugins.Server.Configuration.LiveConfiguration");
    }

    /// <summary>How many reloads have completed (the first load included).</summary>
    public int Generation { get; private set; }

    /// <summary>Reads everything and creates the vhosts; any invalid file or vhost throws (a server fails fast at start).</summary>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>A task that completes when the vhosts are created.</returns>
    /// <exception cref="LwsConfigurationException">A file or vhost is invalid; the message names the file, the vhost and the key.</exception>
    public Task LoadAsync(CancellationToken cancellationToken) => ReloadAsync(strict: true, cancellationToken);

    /// <summary>Reads everything again and applies the differences (SIGHUP); an invalid file is reported and keeps its last good state.</summary>
    /// <param name="cancellationToken">Cancels the reload.</param>
    /// <returns>A task that completes when the differences are applied.</returns>
    public Task ReloadAsync(CancellationToken cancellationToken) => ReloadAsync(strict: false, cancellationToken);

    /// <summary>Watches the global file and the <c>conf.d</c> folder; a burst of changes gives one reload after the debounce.</summary>
    public void StartWatching()
    {
        if (_confD is not null && Directory.Exists(_confD))
        {
            _watchers.Add(Watch(new FileSystemWatcher(_confD)));
        }

        if (_globalFile is not null)
        {
            _watchers.Add(Watch(new FileSystemWatcher(Path.GetDirectoryName(_globalFile)!, Path.GetFileName(_globalFile))));
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        ITimer? timer;
        lock (_timerGate)
        {
            timer = _debounceTimer;
            _debounceTimer = null;
        }

        if (timer is not null)
        {
            await timer.DisposeAsync().ConfigureAwait(false);
        }

        await _reloadGate.WaitAsync().ConfigureAwait(false);
        _reloadGate.Dispose();
    }

    private FileSystemWatcher Watch(FileSystemWatcher watcher)
    {
        watcher.NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime;
        watcher.Created += (_, _) => ScheduleReload();
        watcher.Changed += (_, _) => ScheduleReload();
        watcher.Deleted += (_, _) => ScheduleReload();
        watcher.Renamed += (_, _) => ScheduleReload();
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private void ScheduleReload()
    {
        lock (_timerGate)
        {
            if (_debounceTimer is null)
            {
                _debounceTimer = _time.CreateTimer(
                    static state => _ = ((LiveConfiguration)state!).ReloadInBackgroundAsync(), this, _debounce, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _debounceTimer.Change(_debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private async Task ReloadInBackgroundAsync()
    {
        try
        {
            await ReloadAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // Disposed while a reload was pending.
        }
    }

    private async Task ReloadAsync(bool strict, CancellationToken cancellationToken)
    {
        await _reloadGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var sources = ReadSources(strict);
            var desired = Desired(sources, strict);
            var result = await _context.ApplyAsync(VhostSources.Configuration, [.. desired.Values.Select(d => d.Options)], VhostApplyMode.Replace, cancellationToken).ConfigureAwait(false);
            Report(result, desired, strict);
            _lastGood.Clear();
            foreach (var (source, vhosts) in sources)
            {
                _lastGood[source] = vhosts;
            }

            Generation++;
            ConfigurationLog.Reloaded(
                _logger, result.Count(VhostApplyAction.Created), result.Count(VhostApplyAction.Updated), result.Count(VhostApplyAction.Recreated), result.Count(VhostApplyAction.Destroyed));
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    private Dictionary<string, IReadOnlyList<VhostOptions>> ReadSources(bool strict)
    {
        var files = new List<string>();
        if (_globalFile is not null)
        {
            files.Add(_globalFile);
        }

        if (_confD is not null)
        {
            if (Directory.Exists(_confD))
            {
                files.AddRange(Directory.GetFiles(_confD).Where(IsConfigurationFile).Order(StringComparer.Ordinal));
            }
            else if (strict)
            {
                throw new LwsConfigurationException($"confD: folder '{_confD}' does not exist.");
            }
        }

        var sources = new Dictionary<string, IReadOnlyList<VhostOptions>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            string? text = null;
            try
            {
                text = File.ReadAllText(file);
                sources[file] = _parseVhosts is { } parse ? parse(text, file) : file == _globalFile ? [.. LwsServerConfigFile.Parse(text, file).Vhosts] : LwsServerConfigFile.ParseVhosts(text, file);
                _reportedBroken.Remove(file);
            }
            catch (LwsConfigurationException) when (!strict && file != _globalFile && text is not null && ApplyOneByOne(file, text) is { } good)
            {
                sources[file] = good;
            }
            catch (Exception ex) when (!strict && ex is LwsConfigurationException or IOException or UnauthorizedAccessException)
            {
                var state = text ?? ex.Message;
                if (!_reportedBroken.TryGetValue(file, out var reported) || reported != state)
                {
                    _reportedBroken[file] = state;
                    ConfigurationLog.Rejected(_logger, ex.Message);
                }

                if (_lastGood.TryGetValue(file, out var lastGood))
                {
                    sources[file] = lastGood;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new LwsConfigurationException($"{file}: cannot read: {ex.Message}", ex);
            }
        }

        return sources;
    }

    /// <summary>
    /// An array file with a bad vhost: its vhosts one by one, the good ones kept, each refused one logged (once per
    /// change of the file). Null when the file cannot be split (not an array, or no vhost of it is good): then the whole
    /// file is refused and its last good state stays.
    /// </summary>
    private List<VhostOptions>? ApplyOneByOne(string file, string text)
    {
        if (LwsServerConfigFile.ParseVhostsEach(text, file) is not { } outcomes)
        {
            return null;
        }

        var good = new List<VhostOptions>();
        var refused = new List<string>();
        foreach (var outcome in outcomes)
        {
            if (outcome.Vhost is { } vhost)
            {
                good.Add(vhost);
                continue;
            }

            refused.Add(outcome.Error!);

            // A refused vhost that served before keeps serving its last good definition, as a refused file does.
            if (outcome.Name is { } name && _lastGood.TryGetValue(file, out var before) && before.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase)) is { } previous)
            {
                good.Add(previous);
            }
        }

        if (good.Count == 0 || refused.Count == 0 || good.Select(v => v.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != good.Count)
        {
            return null;
        }

        if (!_reportedBroken.TryGetValue(file, out var reported) || reported != text)
        {
            _reportedBroken[file] = text;
            foreach (var message in refused)
            {
                ConfigurationLog.Rejected(_logger, $"{message} (this vhost was refused; the file's other vhosts are applied)");
            }
        }

        return good;
    }

    private Dictionary<string, (VhostOptions Options, string Source)> Desired(
        Dictionary<string, IReadOnlyList<VhostOptions>> sources, bool strict)
    {
        var desired = new Dictionary<string, (VhostOptions Options, string Source)>(StringComparer.OrdinalIgnoreCase);
        foreach (var (source, vhosts) in sources)
        {
            foreach (var vhost in vhosts)
            {
                if (desired.TryGetValue(vhost.Name, out var first))
                {
                    var message = $"{source}: vhost '{vhost.Name}': name: is defined in {first.Source} already; this one is ignored.";
                    if (strict)
                    {
                        throw new LwsConfigurationException(message);
                    }

                    ConfigurationLog.Rejected(_logger, message);
                    continue;
                }

                desired.Add(vhost.Name, (vhost, source));
            }
        }

        return desired;
    }

    /// <summary>Logs what the engine did per vhost; a refusal is an error at start (strict) and a logged rejection later.</summary>
    private void Report(VhostApplyResult result, Dictionary<string, (VhostOptions Options, string Source)> desired, bool strict)
    {
        foreach (var outcome in result.Outcomes)
        {
            var file = desired.TryGetValue(outcome.Name, out var entry) ? entry.Source : "configuration";
            switch (outcome.Action)
            {
                case VhostApplyAction.Destroyed:
                    ConfigurationLog.RemovedVhost(_logger, outcome.Name);
                    break;
                case VhostApplyAction.Created or VhostApplyAction.Updated or VhostApplyAction.Recreated:
                    ConfigurationLog.Applied(_logger, outcome.Action switch
                    {
                        VhostApplyAction.Created => "created",
                        VhostApplyAction.Updated => "changed in place",
                        _ => "re-created",
                    }, outcome.Name, file);
                    break;
                case VhostApplyAction.Refused:
                    Reject(strict, $"{file}: {outcome.Error}");
                    break;
            }
        }
    }

    private void Reject(bool strict, string message)
    {
        if (strict)
        {
            throw new LwsConfigurationException(message);
        }

        ConfigurationLog.Rejected(_logger, message);
    }

    private static bool IsConfigurationFile(string path)
    {
        var name = Path.GetFileName(path);
        return !name.StartsWith('.') && !name.EndsWith('~') && !name.EndsWith(".swp", StringComparison.Ordinal) && !name.EndsWith(".tmp", StringComparison.Ordinal);
    }
}
