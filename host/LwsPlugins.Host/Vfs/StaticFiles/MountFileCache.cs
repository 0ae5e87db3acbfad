using System.Collections.Concurrent;
using LwsPlugins.Host.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// The cache of one mount, in front of its static-file middleware: a GET or HEAD of a file it holds is answered with one
/// dictionary lookup and one change-token check (no provider lookup, no MIME or encoding decision); any other request,
/// and a file it cannot hold (a folder, an unknown type, a missing file, a large file with no physical path, a link),
/// goes on to the middleware as before. A file is loaded once, with its precompressed siblings (<c>.br</c>, <c>.gz</c>,
/// or a deflated zip entry's gzip form) and the change tokens of all of them.
/// </summary>
internal sealed class MountFileCache : IDisposable
{
    private readonly StaticFileCache _cache;
    private readonly IFileProvider _provider;
    private readonly FileExtensionContentTypeProvider _contentTypes;
    private readonly string[] _defaultDocuments;
    private readonly string _mountPoint;
    private readonly StringValues _cacheControl;
    private readonly ConcurrentDictionary<string, CachedFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CachedFile>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public MountFileCache(StaticFileCache cache, IFileProvider provider, FileExtensionContentTypeProvider contentTypes, PathString mountPoint, MountOptions mount)
    {
        _cache = cache;
        _provider = provider;
        _contentTypes = contentTypes;
        _defaultDocuments = [.. mount.DefaultDocuments];
        _mountPoint = mountPoint.Value ?? "";
        _cacheControl = mount.CacheControl;
        _lookup = _files.GetAlternateLookup<ReadOnlySpan<char>>();
        cache.Register(this);
    }

    public int Count => _files.Count;

    public RequestDelegate Middleware(RequestDelegate next) => context => ServeAsync(context, next);

    public void Dispose()
    {
        _cache.Unregister(this);
        foreach (var (key, file) in _files)
        {
            Remove(key, file);
        }
    }

    internal KeyValuePair<string, CachedFile>[] Snapshot() => _files.ToArray();

    internal bool Remove(string key, CachedFile file)
    {
        if (_files.TryRemove(new KeyValuePair<string, CachedFile>(key, file)))
        {
            _cache.Release(file.MemoryBytes);
            return true;
        }

        return false;
    }

    private Task ServeAsync(HttpContext context, RequestDelegate next)
    {
        var method = context.Request.Method;
        var head = HttpMethods.IsHead(method);
        if ((!head && !HttpMethods.IsGet(method)) || context.Request.Path.Value is not { } path)
        {
            return next(context);
        }

        ReadOnlySpan<char> subpath = path;
        if (_mountPoint.Length > 0)
        {
            if (path.Length <= _mountPoint.Length || path[_mountPoint.Length] != '/' || !path.StartsWith(_mountPoint, StringComparison.Ordinal))
            {
                return next(context);
            }

            subpath = subpath[_mountPoint.Length..];
        }

        if (_lookup.TryGetValue(subpath, out var file))
        {
            if (!file.Token.HasChanged)
            {
                file.LastUse = Environment.TickCount64;
                return CachedFileResponder.SendAsync(context, file, head, _cacheControl, _cache.Time);
            }

            Remove(_lookup.TryGetValue(subpath, out var key, out _) ? key : subpath.ToString(), file);
        }

        return LoadAndServeAsync(context, next, subpath.ToString(), head);
    }

    private async Task LoadAndServeAsync(HttpContext context, RequestDelegate next, string subpath, bool head)
    {
        var file = await LoadAsync(subpath, context.RequestAborted).ConfigureAwait(false);
        if (file is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        if (_cache.TryReserve(file.MemoryBytes) && !_files.TryAdd(subpath, file))
        {
            _cache.Release(file.MemoryBytes);
        }

        await CachedFileResponder.SendAsync(context, file, head, _cacheControl, _cache.Time).ConfigureAwait(false);
    }

    /// <summary>The file as the cache keeps it, or <see langword="null"/> when the static-file middleware must answer.</summary>
    internal async Task<CachedFile?> LoadAsync(string subpath, CancellationToken cancellationToken)
    {
        var tokens = new List<IChangeToken>(3);
        string? found = null;
        IFileInfo? info = null;
        if (subpath.EndsWith('/'))
        {
            // A folder's default document; the documents before it are watched too, so one created later is served.
            foreach (var document in _defaultDocuments)
            {
                var candidate = subpath + document;
                tokens.Add(_provider.Watch(candidate));
                if (_provider.GetFileInfo(candidate) is { Exists: true, IsDirectory: false } candidateInfo)
                {
                    (found, info) = (candidate, candidateInfo);
                    break;
                }
            }
        }
        else if (_contentTypes.TryGetContentType(subpath, out _))
        {
            tokens.Add(_provider.Watch(subpath));
            if (_provider.GetFileInfo(subpath) is { Exists: true, IsDirectory: false } fileInfo)
            {
                (found, info) = (subpath, fileInfo);
            }
        }

        if (found is null || info is null || !_contentTypes.TryGetContentType(found, out var contentType))
        {
            return null;
        }

        var identity = await ReadAsync(info, null, cancellationToken).ConfigureAwait(false);
        if (identity is null)
        {
            return null;
        }

        CachedRepresentation? gzip = null;
        if (info is ZipEntryFileInfo { IsDeflated: true } entry)
        {
            gzip = await ReadAsync(new GzipFileInfo(entry), "gzip", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            gzip = await SiblingAsync(found + ".gz", "gzip", tokens, cancellationToken).ConfigureAwait(false);
        }

        var brotli = await SiblingAsync(found + ".br", "br", tokens, cancellationToken).ConfigureAwait(false);
        var token = tokens.Count == 1 ? tokens[0] : new CompositeChangeToken(tokens);

        // A token already changed (the file moved while it was read, or a link the provider followed) is not cached.
        return token.HasChanged ? null : new CachedFile(token, contentType, identity, gzip, brotli);
    }

    private async Task<CachedRepresentation?> SiblingAsync(string path, string encoding, List<IChangeToken> tokens, CancellationToken cancellationToken)
    {
        tokens.Add(_provider.Watch(path));
        return _provider.GetFileInfo(path) is { Exists: true, IsDirectory: false } sibling
            ? await ReadAsync(sibling, encoding, cancellationToken).ConfigureAwait(false)
            : null;
    }

    private async Task<CachedRepresentation?> ReadAsync(IFileInfo info, string? encoding, CancellationToken cancellationToken)
    {
        var length = info.Length;
        if (length > _cache.Options.MaxFileBytes)
        {
            return info.PhysicalPath is { } physical ? new CachedRepresentation(null, physical, length, info.LastModified, encoding) : null;
        }

        var content = new byte[length];
        var stream = info.CreateReadStream();
        await using (stream.ConfigureAwait(false))
        {
            var read = await stream.ReadAtLeastAsync(content, content.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);

            // Shorter or longer than its length said: written while it was read; the middleware serves it this time.
            if (read != content.Length || await stream.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) != 0)
            {
                return null;
            }
        }

        return new CachedRepresentation(content, null, length, info.LastModified, encoding);
    }
}
