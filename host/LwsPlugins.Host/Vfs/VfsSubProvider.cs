using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// The VFS seen from a folder of it (a <c>file://</c> mount's origin): each path is resolved through the VFS on every
/// request, so the longest prefix wins below the folder too. Paths that would leave the folder are not found.
/// </summary>
internal sealed class VfsSubProvider(VirtualFileSystem vfs, string basePath) : IFileProvider
{
    public IFileInfo GetFileInfo(string subpath)
        => VfsPath.IsSafe(subpath) ? vfs.GetFileInfo(VfsPath.Combine(basePath, subpath)) : new NotFoundFileInfo(subpath);

    public IDirectoryContents GetDirectoryContents(string subpath)
        => VfsPath.IsSafe(subpath) ? vfs.GetDirectoryContents(VfsPath.Combine(basePath, subpath)) : NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;
}
