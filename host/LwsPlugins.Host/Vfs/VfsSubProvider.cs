using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// The VFS seen from a folder of it (a <c>file://</c> mount's origin): each path is resolved through the VFS on every
/// request, so the longest prefix wins below the folder too. Paths that would leave the folder are not found, and so
/// are paths no provider at least as specific as the one the mount was made for serves any more (its plugin was removed):
/// they never fall through to the platform file system.
/// </summary>
internal sealed class VfsSubProvider(VirtualFileSystem vfs, string basePath) : IFileProvider
{
    private readonly int _minimumPrefixLength = FindPrefixLength(vfs, basePath);

    public IFileInfo GetFileInfo(string subpath)
        => Resolve(subpath, out var provider, out var inner) ? provider.GetFileInfo(inner) : new NotFoundFileInfo(subpath);

    public IDirectoryContents GetDirectoryContents(string subpath)
        => Resolve(subpath, out var provider, out var inner) ? provider.GetDirectoryContents(inner) : NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => VfsPath.IsSafe(filter) ? vfs.Watch(VfsPath.Combine(basePath, filter)) : NullChangeToken.Singleton;

    private static int FindPrefixLength(VirtualFileSystem vfs, string basePath)
    {
        vfs.Resolve(basePath, out _, out var prefix);
        return prefix?.Length ?? 0;
    }

    private bool Resolve(string subpath, out IFileProvider provider, out string inner)
    {
        provider = vfs;
        inner = subpath;
        if (!VfsPath.IsSafe(subpath))
        {
            return false;
        }

        provider = vfs.Resolve(VfsPath.Combine(basePath, subpath), out inner, out var prefix);
        return (prefix?.Length ?? 0) >= _minimumPrefixLength;
    }
}
