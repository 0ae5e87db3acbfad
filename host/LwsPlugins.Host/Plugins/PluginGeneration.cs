using System.Composition.Hosting;
using System.Runtime.Loader;
using LwsPlugins.Sdk;
using LwsPlugins.Sdk.Files;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.FileProviders;

namespace LwsPlugins.Host.Plugins;

/// <summary>
/// One loaded version of a plugin: its own collectible, in-memory load context and its exports. Generations of one
/// plugin can live side by side (hot reload); disposing a generation unloads its context.
/// </summary>
internal sealed class PluginGeneration : IAsyncDisposable, IDisposable
{
    private readonly Lock _gate = new();
    private PluginLoader? _loader;
    private CompositionHost? _container;
    private int _instances;

    private PluginGeneration(string pluginId, int number, PluginManifest? manifest, DateTimeOffset loadedAt)
    {
        PluginId = pluginId;
        Number = number;
        Manifest = manifest;
        LoadedAt = loadedAt;
    }

    public string PluginId { get; }

    public int Number { get; }

    public PluginManifest? Manifest { get; }

    public DateTimeOffset LoadedAt { get; }

    public PluginGenerationState State { get; private set; }

    /// <summary>A hash of every file of the plugin folder when it was loaded; an identical folder is not loaded again.</summary>
    public string? ContentHash { get; init; }

    /// <summary>Protocol instances (across vhosts) still alive from this generation.</summary>
    public int LiveInstances => Volatile.Read(ref _instances);

    public string? Error { get; private set; }

    public IReadOnlyDictionary<string, ProtocolExport> Protocols { get; private set; } = new Dictionary<string, ProtocolExport>();

    /// <summary>The VFS providers the generation exports, by prefix; the context serves them while the generation is active.</summary>
    public IReadOnlyDictionary<string, IFileProvider> FileProviders { get; private set; } = new Dictionary<string, IFileProvider>();

    /// <summary>The generation's load context, held weakly so tests can prove it is collected after unloading.</summary>
    public WeakReference? LoadContext { get; private set; }

    public static PluginGeneration Failed(string pluginId, int number, PluginManifest? manifest, DateTimeOffset now, string error, string? contentHash)
        => new(pluginId, number, manifest, now) { State = PluginGenerationState.Failed, Error = error, ContentHash = contentHash };

    /// <summary>Loads the manifest's assembly and discovers its protocol exports.</summary>
    /// <exception cref="PluginLoadException">The assembly is missing or broken, or its exports do not match the manifest.</exception>
    public static PluginGeneration Load(PluginManifest manifest, int number, DateTimeOffset now, string? contentHash)
    {
        if (!File.Exists(manifest.AssemblyPath))
        {
            throw PluginLoadException.At(manifest.FilePath, "assembly", $"'{manifest.Assembly}' was not found in {manifest.Directory}.");
        }

        PluginAssemblyChecks.Check(manifest);
        var generation = new PluginGeneration(manifest.Id, number, manifest, now) { ContentHash = contentHash };
        var loader = PluginLoader.CreateFromAssemblyFile(
            manifest.AssemblyPath,
            SharedAssemblies.Types,
            config =>
            {
                config.IsUnloadable = true;
                config.LoadInMemory = true;
            });
        try
        {
            var assembly = loader.LoadDefaultAssembly();
            var container = new ContainerConfiguration().WithAssembly(assembly).CreateContainer();
            generation._loader = loader;
            generation._container = container;
            generation.LoadContext = new WeakReference(AssemblyLoadContext.GetLoadContext(assembly));
            generation.FileProviders = CreateFileProviders(container, manifest);
            generation.Protocols = DiscoverExports(container, manifest, generation);
            generation.State = PluginGenerationState.Active;
            return generation;
        }
        catch (Exception ex) when (ex is not PluginLoadException)
        {
            generation.Unload();
            throw PluginLoadException.At(manifest.FilePath, "assembly", $"'{manifest.Assembly}' could not be loaded: {ex.GetType().Name}: {ex.Message}", ex);
        }
        catch
        {
            generation.Unload();
            throw;
        }
    }

    private static Dictionary<string, ProtocolExport> DiscoverExports(CompositionHost container, PluginManifest manifest, PluginGeneration generation)
    {
        var exports = container.GetExports<Lazy<IProtocolPlugin, ProtocolExportMetadata>>().ToList();
        if (exports.Count == 0 && generation.FileProviders.Count == 0)
        {
            throw PluginLoadException.At(
                manifest.FilePath,
                "assembly",
                $"'{manifest.Assembly}' exports no protocol: mark an IProtocolPlugin class with [ExportProtocol(\"name\")] (and do not ship a private copy of LwsPlugins.Sdk or System.Composition.AttributedModel).");
        }

        var result = new Dictionary<string, ProtocolExport>(StringComparer.Ordinal);
        foreach (var export in exports)
        {
            var name = export.Metadata.Name;
            var declared = manifest.Protocols.FirstOrDefault(p => p.Name == name);
            if (declared is null)
            {
                throw PluginLoadException.At(manifest.FilePath, "protocols", $"the assembly exports '{name}', which the manifest does not declare.");
            }

            if (result.ContainsKey(name))
            {
                throw PluginLoadException.At(manifest.FilePath, "assembly", $"'{name}' is exported twice.");
            }

            result.Add(name, new ProtocolExport(name, export.Metadata.PerMessageDeflate, export.Value, generation, declared.DefaultOptions));
        }

        var missing = manifest.Protocols.Select(p => p.Name).Where(n => !result.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw PluginLoadException.At(manifest.FilePath, "protocols", $"declared but not exported by the assembly: {string.Join(", ", missing)}.");
        }

        return result;
    }

    private static Dictionary<string, IFileProvider> CreateFileProviders(CompositionHost container, PluginManifest manifest)
    {
        var result = new Dictionary<string, IFileProvider>(StringComparer.Ordinal);
        try
        {
            foreach (var export in container.GetExports<Lazy<IFileProviderPlugin, FileProviderExportMetadata>>())
            {
                var prefix = export.Metadata.Prefix;
                if (!manifest.FileProviders.Contains(prefix))
                {
                    throw PluginLoadException.At(manifest.FilePath, "fileProviders", $"the assembly exports a file provider for '{prefix}', which the manifest does not declare.");
                }

                if (result.ContainsKey(prefix))
                {
                    throw PluginLoadException.At(manifest.FilePath, "assembly", $"a file provider for '{prefix}' is exported twice.");
                }

                IFileProvider provider;
                try
                {
                    provider = export.Value.CreateFileProvider(new FileProviderPluginContext(manifest.Id, manifest.Directory, prefix))
                        ?? throw new InvalidOperationException("CreateFileProvider returned null.");
                }
                catch (Exception ex) when (ex is not PluginLoadException)
                {
                    throw PluginLoadException.At(manifest.FilePath, "fileProviders", $"the file provider for '{prefix}' could not be created: {ex.GetType().Name}: {ex.Message}", ex);
                }

                result.Add(prefix, provider);
            }

            var missing = manifest.FileProviders.Where(p => !result.ContainsKey(p)).ToList();
            if (missing.Count > 0)
            {
                throw PluginLoadException.At(manifest.FilePath, "fileProviders", $"declared but not exported by the assembly: {string.Join(", ", missing)} (mark an IFileProviderPlugin class with [ExportFileProvider(\"/prefix\")]).");
            }

            return result;
        }
        catch
        {
            DisposeProviders(result.Values);
            throw;
        }
    }

    private static void DisposeProviders(IEnumerable<IFileProvider> providers)
    {
        foreach (var provider in providers)
        {
            (provider as IDisposable)?.Dispose();
        }
    }

    public void AcquireInstance() => Interlocked.Increment(ref _instances);

    /// <summary>An instance of this generation was disposed; the last one of a retired generation unloads it.</summary>
    public ValueTask ReleaseInstanceAsync()
    {
        if (Interlocked.Decrement(ref _instances) == 0 && State == PluginGenerationState.Draining)
        {
            return DisposeAsync();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Retires the generation (reload vocabulary, see <see cref="Reload.PluginReloader"/>): a newer generation or the
    /// plugin's removal replaces it; it is draining while instances of it live, and unloads when the last one is disposed
    /// (at once when it has none).
    /// </summary>
    public void Retire()
    {
        lock (_gate)
        {
            if (State != PluginGenerationState.Active)
            {
                return;
            }

            State = PluginGenerationState.Draining;
        }

        if (LiveInstances == 0)
        {
            Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Unloads the generation at once (its load context is collected once nothing references it).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (State is PluginGenerationState.Unloading or PluginGenerationState.Unloaded)
            {
                return;
            }

            var failed = State == PluginGenerationState.Failed;
            State = PluginGenerationState.Unloading;
            Unload();
            State = failed ? PluginGenerationState.Failed : PluginGenerationState.Unloaded;
        }
    }

    private void Unload()
    {
        Protocols = new Dictionary<string, ProtocolExport>();
        DisposeProviders(FileProviders.Values);
        FileProviders = new Dictionary<string, IFileProvider>();
        _container?.Dispose();
        _container = null;
        _loader?.Dispose();
        _loader = null;
    }
}
