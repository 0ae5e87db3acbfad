using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// The virtual file system (lws: the context's <c>fops</c> list and <c>lws_vfs_file_*</c>): an ordered set of file
/// providers, each with a path prefix. A path is served by the provider whose prefix matches it on whole segments and is
/// the longest; a path no prefix matches goes to the default provider (the platform file system).
/// </summary>
internal sealed class VirtualFileSystem : IFileProvider
{
    private readonly Lock _lock = new();
    private readonly IFileProvider _default;
    private (string Prefix, IFileProvider Provider)[] _providers = [];
    private ProviderSetToken _changes = new();

    /// <param name="defaultProvider">Serves paths no prefix matches; <see cref="NullFileProvider"/> when there is none.</param>
    public VirtualFileSystem(IFileProvider? defaultProvider = null) => _default = defaultProvider ?? new NullFileProvider();

    /// <summary>The cache of the mounts' small files, when file caching is on.</summary>
    public StaticFiles.StaticFileCache? FileCache { get; init; }

    /// <summary>The registered prefixes, longest first.</summary>
    public IReadOnlyList<string> Prefixes => [.. _providers.Select(p => p.Prefix)];

    /// <summary>Adds a provider for <paramref name="prefix"/>.</summary>
    /// <exception cref="ArgumentException">The prefix is invalid or already has a provider.</exception>
    public void Add(string prefix, IFileProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        if (!VfsPath.IsValidPrefix(prefix))
        {
            throw new ArgumentException($"'{prefix}' is not a valid VFS prefix (it starts with '/' and does not end with one).", nameof(prefix));
        }

        lock (_lock)
        {
            if (_providers.Any(p => p.Prefix == prefix))
            {
                throw new ArgumentException($"the VFS prefix '{prefix}' has a provider already.", nameof(prefix));
            }

            // Longest first, so the first match is the best one; ties cannot happen (prefixes are unique).
            _providers = [.. _providers.Append((Prefix: prefix, Provider: provider)).OrderByDescending(p => p.Prefix.Length).ThenBy(p => p.Prefix, StringComparer.Ordinal)];
            SignalChange();
        }
    }

    /// <summary>Removes the provider of <paramref name="prefix"/>; returns it, or <see langword="null"/> when there was none.</summary>
    public IFileProvider? Remove(string prefix)
    {
        lock (_lock)
        {
            var found = _providers.FirstOrDefault(p => p.Prefix == prefix);
            _providers = [.. _providers.Where(p => p.Prefix != prefix)];
            if (found.Provider is not null)
            {
                SignalChange();
            }

            return found.Provider;
        }
    }

    /// <summary>
    /// Sets the provider of <paramref name="prefix"/> to <paramref name="next"/> (or removes it when null), but only if
    /// its provider is still <paramref name="expected"/> (null: none); a plugin generation's providers replace only its
    /// predecessor's, never a configured provider or another plugin's.
    /// </summary>
    /// <returns>Whether the prefix had the expected provider and now has <paramref name="next"/>.</returns>
    public bool Exchange(string prefix, IFileProvider? expected, IFileProvider? next)
    {
        if (!VfsPath.IsValidPrefix(prefix))
        {
            throw new ArgumentException($"'{prefix}' is not a valid VFS prefix (it starts with '/' and does not end with one).", nameof(prefix));
        }

        lock (_lock)
        {
            var current = _providers.FirstOrDefault(p => p.Prefix == prefix).Provider;
            if (!ReferenceEquals(current, expected))
            {
                return false;
            }

            var rest = _providers.Where(p => p.Prefix != prefix);
            _providers = next is null
                ? [.. rest]
                : [.. rest.Append((Prefix: prefix, Provider: next)).OrderByDescending(p => p.Prefix.Length).ThenBy(p => p.Prefix, StringComparer.Ordinal)];
            SignalChange();
            return true;
        }
    }

    /// <summary>The provider serving <paramref name="path"/> and the path inside it; <paramref name="prefix"/> is null for the default.</summary>
    public IFileProvider Resolve(string path, out string subpath, out string? prefix)
    {
        path = Normalize(path);
        foreach (var (candidate, provider) in _providers)
        {
            if (VfsPath.Matches(candidate, path))
            {
                subpath = VfsPath.Remainder(candidate, path);
                prefix = candidate;
                return provider;
            }
        }

        subpath = path;
        prefix = null;
        return _default;
    }

    /// <summary>Whether a prefix other than the default's matches <paramref name="path"/>.</summary>
    public bool HasProviderFor(string path)
    {
        Resolve(path, out _, out var prefix);
        return prefix is not null;
    }

    public IFileInfo GetFileInfo(string subpath)
    {
        var path = Normalize(subpath);
        return VfsPath.IsSafe(path) ? Resolve(path, out var inner, out _).GetFileInfo(inner) : new NotFoundFileInfo(subpath);
    }

    public IDirectoryContents GetDirectoryContents(string subpath)
    {
        var path = Normalize(subpath);
        return VfsPath.IsSafe(path) ? Resolve(path, out var inner, out _).GetDirectoryContents(inner) : NotFoundDirectoryContents.Singleton;
    }

    /// <summary>
    /// Changes when the provider set changes (a prefix added, removed, or moved to a plugin's next generation: any path may
    /// now be served by another provider) or when the provider serving <paramref name="filter"/> (a path) says its file changed.
    /// </summary>
    public IChangeToken Watch(string filter)
    {
        var set = Volatile.Read(ref _changes);
        var path = Normalize(filter);
        return VfsPath.IsSafe(path) ? new CompositeChangeToken([set, Resolve(path, out var inner, out _).Watch(inner)]) : set;
    }

    private void SignalChange()
    {
        var previous = _changes;
        Volatile.Write(ref _changes, new ProviderSetToken());
        previous.Changed = true;
    }

    private static string Normalize(string path) => path.Length == 0 ? "/" : path[0] == '/' ? path : "/" + path;

    /// <summary>Changes once, when the provider set it was handed out for is replaced; polled, never called back.</summary>
    private sealed class ProviderSetToken : IChangeToken
    {
        private volatile bool _changed;

        public bool Changed { set => _changed = value; }

        public bool HasChanged => _changed;

        public bool ActiveChangeCallbacks => false;

        public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => NullChangeToken.Singleton.RegisterChangeCallback(callback, state);
    }
}
