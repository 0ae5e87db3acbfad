using LwsPlugins.Host.Configuration;
using LwsPlugins.Host.Vfs;
using LwsPlugins.Host.Vfs.StaticFiles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// Builds a vhost's mounts (lws: <c>lws_http_mount</c>) on ASP.NET Core's default-files and static-file middleware:
/// folders and <c>file://</c> VFS paths with default documents, redirects, per-mount cache policy and MIME types, gzip
/// passthrough of deflated zip entries and precompressed <c>.br</c>/<c>.gz</c> siblings, 415 for unknown extensions, a 301
/// to add a mount point's trailing slash, and in front of all of it the mount's cache of small hot files.
/// </summary>
internal static class MountPipeline
{
    private const string FileScheme = "file://";

    /// <summary>Refuses, with 400 and no content, a request path that could leave its mount (<see cref="VfsPath.IsSafe"/>).</summary>
    public static void UsePathGuard(IApplicationBuilder app)
        => app.Use((context, next) =>
        {
            if (VfsPath.IsSafe(context.Request.Path.Value ?? "/"))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return Task.CompletedTask;
        });

    /// <summary>Adds one mount; returns a provider the vhost owns and disposes, if the mount made one.</summary>
    /// <exception cref="LwsConfigurationException">The origin does not exist; the message names the vhost and the key.</exception>
    public static IDisposable? Add(IApplicationBuilder app, string vhost, MountOptions mount, int index, string baseDirectory, VirtualFileSystem vfs)
    {
        var requestPath = mount.MountPoint == "/" ? PathString.Empty : new PathString(mount.MountPoint.TrimEnd('/'));
        if (mount.Redirect is { } target)
        {
            app.Use((context, next) => context.Request.Path.StartsWithSegments(requestPath) ? RedirectAsync(context, target, mount.RedirectStatus) : next(context));
            return null;
        }

        if (requestPath.HasValue)
        {
            app.Use((context, next) => context.Request.Path == requestPath ? RedirectAsync(context, requestPath + "/" + context.Request.QueryString, 301) : next(context));
        }

        var provider = Resolve(vhost, mount, index, baseDirectory, vfs);
        var contentTypes = new FileExtensionContentTypeProvider();
        foreach (var (extension, type) in mount.MimeTypes)
        {
            contentTypes.Mappings[extension] = type;
        }

        // Small hot files are answered from memory before the middleware below; everything else falls through to it.
        MountFileCache? cache = null;
        if (vfs.FileCache is { Options.Enabled: true } fileCache)
        {
            cache = new MountFileCache(fileCache, provider, contentTypes, requestPath, mount);
            app.Use(cache.Middleware);
        }

        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = provider, RequestPath = requestPath, DefaultFileNames = [.. mount.DefaultDocuments] });
        app.Use((context, next) => IsUnknownType(context, requestPath, provider, contentTypes) ? RefuseTypeAsync(context) : next(context));
        UsePrecompressed(app, provider, requestPath, contentTypes, mount, ".br", "br", AcceptEncoding.Codings.Brotli);
        UsePrecompressed(app, provider, requestPath, contentTypes, mount, ".gz", "gzip", AcceptEncoding.Codings.Gzip);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = provider,
            RequestPath = requestPath,
            ContentTypeProvider = contentTypes,
            OnPrepareResponse = response =>
            {
                if (response.File is ZipEntryFileInfo { IsDeflated: true } || HasPrecompressedSibling(response, requestPath, provider))
                {
                    response.Context.Response.Headers.Vary = HeaderNames.AcceptEncoding;
                }

                ApplyCachePolicy(response, mount);
            },
        });
        return cache is null ? provider as IDisposable : new MountResources(provider as IDisposable, cache);
    }

    /// <summary>Whether a GET or HEAD request accepts <paramref name="coding"/> (named, or <c>*</c>, with a quality above 0).</summary>
    internal static bool Accepts(HttpContext context, AcceptEncoding.Codings coding)
        => (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            && context.Request.Headers.AcceptEncoding.Count > 0
            && (AcceptEncoding.Parse(context.Request.Headers.AcceptEncoding) & coding) != 0;

    /// <summary>Serves the <paramref name="extension"/> sibling (or a deflated zip entry, for gzip) to a request that accepts its coding.</summary>
    private static void UsePrecompressed(IApplicationBuilder app, IFileProvider provider, PathString requestPath, FileExtensionContentTypeProvider contentTypes, MountOptions mount, string extension, string encoding, AcceptEncoding.Codings coding)
        => app.UseWhen(context => Accepts(context, coding), branch => branch.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PrecompressedFileProvider(provider, extension),
            RequestPath = requestPath,
            ContentTypeProvider = contentTypes,
            OnPrepareResponse = response =>
            {
                var headers = response.Context.Response.Headers;
                if (response.Context.Response.StatusCode is StatusCodes.Status200OK or StatusCodes.Status206PartialContent)
                {
                    headers.ContentEncoding = encoding;
                }

                headers.Vary = HeaderNames.AcceptEncoding;
                ApplyCachePolicy(response, mount);
            },
        }));

    private static bool HasPrecompressedSibling(StaticFileResponseContext response, PathString requestPath, IFileProvider provider)
        => response.File.PhysicalPath is not null
            && response.Context.Request.Path.StartsWithSegments(requestPath, out var remaining)
            && remaining.Value is { } subpath
            && (provider.GetFileInfo(subpath + ".gz").Exists || provider.GetFileInfo(subpath + ".br").Exists);

    private static IFileProvider Resolve(string vhost, MountOptions mount, int index, string baseDirectory, VirtualFileSystem vfs)
    {
        var origin = mount.Origin;
        if (origin.StartsWith(FileScheme, StringComparison.Ordinal))
        {
            origin = origin[FileScheme.Length..];
            if (origin.StartsWith('/') && vfs.HasProviderFor(origin))
            {
                return VfsPath.IsSafe(origin)
                    ? new VfsSubProvider(vfs, origin)
                    : throw new LwsConfigurationException($"vhost '{vhost}': mounts[{index}].origin: '{mount.Origin}' has '.', '..', '%', ':' or a backslash in its path.");
            }
        }

        var root = Path.GetFullPath(Path.Combine(baseDirectory, origin));
        if (!Directory.Exists(root))
        {
            throw new LwsConfigurationException($"vhost '{vhost}': mounts[{index}].origin: folder '{root}' does not exist.");
        }

        return new ConfinedPhysicalFileProvider(root);
    }

    private static bool IsUnknownType(HttpContext context, PathString requestPath, IFileProvider provider, FileExtensionContentTypeProvider contentTypes)
        => (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            && context.Request.Path.StartsWithSegments(requestPath, out var remaining)
            && remaining.Value is { Length: > 1 } subpath
            && !contentTypes.TryGetContentType(subpath, out _)
            && provider.GetFileInfo(subpath) is { Exists: true, IsDirectory: false };

    private static Task RefuseTypeAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
        return Task.CompletedTask;
    }

    private static Task RedirectAsync(HttpContext context, string location, int status)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    /// <summary>What a mount owns: its provider, when it made one, and its file cache.</summary>
    private sealed class MountResources(IDisposable? provider, IDisposable cache) : IDisposable
    {
        public void Dispose()
        {
            cache.Dispose();
            provider?.Dispose();
        }
    }

    private static void ApplyCachePolicy(StaticFileResponseContext response, MountOptions mount)
    {
        if (mount.CacheControl is { } cacheControl)
        {
            response.Context.Response.Headers.CacheControl = cacheControl;
        }
    }
}
