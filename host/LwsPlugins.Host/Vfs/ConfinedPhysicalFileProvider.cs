using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using LwsPlugins.Host.Vfs.StaticFiles;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// A folder of the platform file system that nothing may leave. <see cref="PhysicalFileProvider"/> refuses <c>..</c>
/// and hidden files but follows symbolic links wherever they point; this provider resolves every link on the way
/// (like <c>realpath</c>) and refuses a file or folder whose real path is outside the root's real path.
/// </summary>
internal sealed class ConfinedPhysicalFileProvider : IFileProvider, IDisposable
{
    private const int MaxLinkHops = 40;
    private readonly PhysicalFileProvider _inner;
    private readonly string _realRoot;

    public ConfinedPhysicalFileProvider(string root)
    {
        _inner = new PhysicalFileProvider(root);
        _realRoot = RealPath(Path.GetFullPath(root)) ?? Path.GetFullPath(root);
    }

    public string Root => _inner.Root;

    public IFileInfo GetFileInfo(string subpath)
    {
        if (!VfsPath.IsSafe(subpath))
        {
            return new NotFoundFileInfo(subpath);
        }

        var info = _inner.GetFileInfo(subpath);
        if (!info.Exists || info.PhysicalPath is not { } physical)
        {
            return info;
        }

        // A link inside the root is served as its target (the link's own length and time are not the file's).
        var real = RealPath(physical);
        return real is null || !IsInside(real) ? new NotFoundFileInfo(subpath)
            : real == physical ? info
            : new PhysicalFileInfo(new FileInfo(real));
    }

    public IDirectoryContents GetDirectoryContents(string subpath)
    {
        if (!VfsPath.IsSafe(subpath))
        {
            return NotFoundDirectoryContents.Singleton;
        }

        var contents = _inner.GetDirectoryContents(subpath);
        return contents.Exists && RealPath(Path.Join(_inner.Root, subpath)) is var real && (real is null || !IsInside(real)) ? NotFoundDirectoryContents.Singleton : contents;
    }

    /// <summary>Changes when the file at <paramref name="filter"/> (a path, not a pattern) is created, written, deleted or is a link.</summary>
    public IChangeToken Watch(string filter)
        => VfsPath.IsSafe(filter) ? new FileStateChangeToken(Path.Join(_inner.Root, filter.TrimStart('/'))) : NullChangeToken.Singleton;

    public void Dispose() => _inner.Dispose();

    /// <summary>The path with every symbolic link resolved, or <see langword="null"/> when links loop.</summary>
    internal static string? RealPath(string path)
    {
        var parts = new LinkedList<string>(Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries));
        var current = "/";
        var hops = 0;
        while (parts.First is { } first)
        {
            parts.RemoveFirst();
            var segment = first.Value;
            if (segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var candidate = Path.Join(current, segment);
            if (new FileInfo(candidate).LinkTarget is not { } target)
            {
                current = candidate;
                continue;
            }

            if (++hops > MaxLinkHops)
            {
                return null;
            }

            if (Path.IsPathRooted(target))
            {
                current = "/";
            }

            var next = parts.First;
            foreach (var part in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                if (next is null)
                {
                    parts.AddLast(part);
                }
                else
                {
                    parts.AddBefore(next, part);
                }
            }
        }

        return current;
    }

    private bool IsInside(string real)
        => (real == _realRoot || real.StartsWith(_realRoot.EndsWith('/') ? _realRoot : _realRoot + "/", StringComparison.Ordinal));
}
