using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// The precompressed form of another provider's files in one coding, for files the mount cache does not hold (large
/// ones): a sibling with the coding's extension (<c>app.js.gz</c> beside <c>app.js</c>, nginx's <c>gzip_static</c>),
/// or for gzip a deflated zip entry's gzip representation. Every other path is not found, so StaticFileMiddleware
/// passes the request on to the next form.
/// </summary>
internal sealed class PrecompressedFileProvider(IFileProvider inner, string extension) : IFileProvider
{
    public IFileInfo GetFileInfo(string subpath)
    {
        var file = inner.GetFileInfo(subpath);
        if (file is ZipEntryFileInfo { IsDeflated: true } entry && extension == ".gz")
        {
            return new GzipFileInfo(entry);
        }

        return file is { Exists: true, IsDirectory: false } && inner.GetFileInfo(subpath + extension) is { Exists: true, IsDirectory: false } sibling
            ? sibling
            : new NotFoundFileInfo(subpath);
    }

    public IDirectoryContents GetDirectoryContents(string subpath) => NotFoundDirectoryContents.Singleton;

    public IChangeToken Watch(string filter) => inner.Watch(filter);
}
