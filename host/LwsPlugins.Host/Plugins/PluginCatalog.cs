using LwsPlugins.Host.Logging;
using Microsoft.Extensions.Logging;

namespace LwsPlugins.Host.Plugins;

/// <summary>
/// Finds plugins in a folder (one sub-folder each, holding <c>&lt;id&gt;.json</c> and the assembly), validates each
/// manifest, loads each plugin as a generation, and indexes the protocols they export. A broken plugin is marked failed
/// with its reason; the others load and serve.
/// </summary>
internal sealed class PluginCatalog : IAsyncDisposable
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, PluginEntry> _plugins = new(StringComparer.Ordinal);
    private Dictionary<string, ProtocolExport> _protocols = new(StringComparer.Ordinal);
    private Dictionary<string, string> _unavailable = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _protocolNames = [];
    private readonly Func<ProtocolExport, string?>? _checkProtocol;

    /// <param name="path">The plugins folder.</param>
    /// <param name="time">The clock generations are stamped with.</param>
    /// <param name="loggerFactory">Where the catalog logs.</param>
    /// <param name="checkProtocol">
    /// Tries each protocol of a new generation as a vhost would create it, with the manifest's default options; returns
    /// why it cannot be created, or <see langword="null"/>. A generation any of whose protocols fails it is failed, and
    /// the generation serving before it stays active.
    /// </param>
    public PluginCatalog(string path, TimeProvider time, ILoggerFactory loggerFactory, Func<ProtocolExport, string?>? checkProtocol = null)
    {
        _path = Path.GetFullPath(path);
        _checkProtocol = checkProtocol;
        _time = time;
        _logger = loggerFactory.CreateLogger("LwsPlugins.Host.Plugins.PluginCatalog");
    }

    public string PluginsPath => _path;

    public IReadOnlyList<PluginEntry> Plugins
    {
        get
        {
            lock (_gate)
            {
                return [.. _plugins.Values];
            }
        }
    }

    /// <summary>Loads every plugin folder under the plugins path.</summary>
    public void LoadAll()
    {
        if (!Directory.Exists(_path))
        {
            Log.PluginsFolderMissing(_logger, _path);
            return;
        }

        foreach (var directory in Directory.GetDirectories(_path).Order(StringComparer.Ordinal))
        {
            Load(directory);
        }
    }

    /// <summary>
    /// Loads the plugin in one folder as a new generation beside the one serving. Returns <see langword="null"/> when the
    /// folder's files are identical to what is loaded (a repeated notification, a rebuild that changed nothing). A
    /// failed load is recorded and leaves the serving generation in place.
    /// </summary>
    public PluginChange? Load(string directory)
    {
        var folderName = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        var manifestPath = Path.Combine(directory, folderName + ".json");
        PluginEntry entry;
        lock (_gate)
        {
            if (!_plugins.TryGetValue(folderName, out entry!))
            {
                entry = new PluginEntry(folderName, Path.GetFullPath(directory));
                _plugins.Add(folderName, entry);
            }
        }

        var previous = entry.Active;
        string? hash = null;
        PluginManifest? manifest = null;
        PluginGeneration generation;
        try
        {
            if (!File.Exists(manifestPath))
            {
                throw PluginLoadException.At(directory, null, $"no manifest: expected {folderName}.json in the plugin folder.");
            }

            // The files of the generation serving, or of the last failure, again: a repeated notification, a rebuild
            // that changed nothing, or a bad build undone by restoring the good files. Nothing new to load.
            hash = PluginFolderHash.Compute(directory);
            if ((previous is not null && previous.ContentHash == hash)
                || (entry.Latest is { State: PluginGenerationState.Failed } failedLast && failedLast.ContentHash == hash))
            {
                return null;
            }

            manifest = PluginManifestReader.Read(manifestPath);
            generation = PluginGeneration.Load(manifest, entry.NextGenerationNumber, _time.GetUtcNow(), hash);
            CheckProtocols(generation, manifest);
            lock (_gate)
            {
                foreach (var name in generation.Protocols.Keys)
                {
                    if (_protocols.TryGetValue(name, out var other) && other.Generation.PluginId != entry.Id)
                    {
                        generation.Dispose();
                        throw PluginLoadException.At(manifest.FilePath, "protocols", $"'{name}' is already provided by plugin '{other.Generation.PluginId}'.");
                    }
                }

                entry.Add(generation);
                Reindex();
            }

            Log.PluginLoaded(_logger, entry.Id, generation.Number, manifest.Version.ToNormalizedString(), string.Join(", ", generation.Protocols.Keys));
        }
        catch (Exception ex) when (ex is PluginLoadException or IOException or UnauthorizedAccessException)
        {
            var reason = ex is PluginLoadException ? ex.Message : $"{directory}: cannot read the plugin's files: {ex.Message}";
            generation = PluginGeneration.Failed(entry.Id, entry.NextGenerationNumber, manifest, _time.GetUtcNow(), reason, hash);
            lock (_gate)
            {
                entry.Add(generation);
                Reindex();
            }

            Log.PluginFailed(_logger, entry.Id, reason);
        }

        return new PluginChange(entry, previous, generation);
    }

    /// <summary>A generation whose protocols cannot be created from the manifest's defaults is refused, naming why.</summary>
    private void CheckProtocols(PluginGeneration generation, PluginManifest manifest)
    {
        if (_checkProtocol is null)
        {
            return;
        }

        foreach (var export in generation.Protocols.Values)
        {
            if (_checkProtocol(export) is { } error)
            {
                generation.Dispose();
                throw error.StartsWith(manifest.FilePath, StringComparison.Ordinal)
                    ? new PluginLoadException(error)
                    : PluginLoadException.At(manifest.FilePath, $"protocols.{export.Name}", error);
            }
        }
    }

    /// <summary>
    /// Every protocol name the catalog knows: those of active generations, then those of plugins whose load failed
    /// (unavailable, with the reason). A vhost that serves every plugin serves exactly these.
    /// </summary>
    public IReadOnlyList<string> ProtocolNames
    {
        get
        {
            lock (_gate)
            {
                return _protocolNames;
            }
        }
    }

    /// <summary>The plugin's folder is gone: nothing of it is indexed any more; its serving generation must retire.</summary>
    public PluginChange? Remove(string directory)
    {
        var folderName = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        lock (_gate)
        {
            if (!_plugins.TryGetValue(folderName, out var entry) || entry.Removed)
            {
                return null;
            }

            var previous = entry.Active;
            entry.Removed = true;
            Reindex();
            Log.PluginRemoved(_logger, entry.Id);
            return new PluginChange(entry, previous, null);
        }
    }

    /// <summary>Finds the active export of a protocol.</summary>
    public bool TryGetProtocol(string name, out ProtocolExport export)
    {
        lock (_gate)
        {
            return _protocols.TryGetValue(name, out export!);
        }
    }

    /// <summary>Why a protocol is not available: its plugin failed, or no plugin provides it.</summary>
    public string GetUnavailableReason(string name)
    {
        lock (_gate)
        {
            return _unavailable.TryGetValue(name, out var reason) ? reason : $"no plugin in {_path} provides protocol '{name}'.";
        }
    }

    private void Reindex()
    {
        var protocols = new Dictionary<string, ProtocolExport>(StringComparer.Ordinal);
        var unavailable = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in _plugins.Values)
        {
            if (entry.Active is { } active)
            {
                foreach (var (name, export) in active.Protocols)
                {
                    protocols.TryAdd(name, export);
                }
            }
            else if (!entry.Removed && entry.Latest is { State: PluginGenerationState.Failed, Manifest: { } manifest } failed)
            {
                foreach (var protocol in manifest.Protocols)
                {
                    unavailable.TryAdd(protocol.Name, $"plugin '{entry.Id}' failed to load: {failed.Error}");
                }
            }
        }

        _protocols = protocols;
        _unavailable = unavailable;
        _protocolNames = [.. protocols.Keys, .. unavailable.Keys.Where(n => !protocols.ContainsKey(n))];
    }

    public async ValueTask DisposeAsync()
    {
        List<PluginGeneration> generations;
        lock (_gate)
        {
            generations = [.. _plugins.Values.SelectMany(p => p.Generations)];
            _protocols = new Dictionary<string, ProtocolExport>(StringComparer.Ordinal);
        }

        foreach (var generation in generations)
        {
            await generation.DisposeAsync().ConfigureAwait(false);
        }
    }
}
