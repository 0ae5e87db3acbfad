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

    public PluginCatalog(string path, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _path = Path.GetFullPath(path);
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

            hash = PluginFolderHash.Compute(directory);
            if (entry.Latest is { } latest && latest.ContentHash == hash && (latest == previous || latest.State == PluginGenerationState.Failed))
            {
                return null;
            }

            manifest = PluginManifestReader.Read(manifestPath);
            generation = PluginGeneration.Load(manifest, entry.NextGenerationNumber, _time.GetUtcNow(), hash);
            lock (_gate)
            {
                foreach (var name in generation.Protocols.Keys)
                {
                    if (_protocols.TryGetValue(name, out var other) && other.Generation.PluginId != entry.Id)
                    {
                        generation.DisposeAsync().AsTask().GetAwaiter().GetResult();
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
