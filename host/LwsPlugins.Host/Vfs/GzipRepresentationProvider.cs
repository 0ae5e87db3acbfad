using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs;

/// <summary>
/// The files of another provider that can be sent as gzip without recompressing (deflated zip entries), in their gzip
/// representation; every other path is not found, so StaticFileMiddleware passes the request on.
/// </summary>
internal sealed class GzipRepresentationProvider(IFileProvider inner) : IFileProvider
{
    public IFileInfo GetFileInfo(string subpath)
        => inner.GetFileInfo(subpath) is ZipEntryFileInfo { IsDeflated: true } entry ? new GzipFileInfo(entry) : new NotFoundFileInfo(subpath);

    public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => NullChangeToken.Singleton;
}
