using Microsoft.Extensions.Primitives;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// A file of a mount as the cache keeps it: its content type, its representations (chosen once, when the file is
/// loaded), and the change token that retires it.
/// </summary>
internal sealed class CachedFile(IChangeToken token, StringValues contentType, CachedRepresentation identity, CachedRepresentation? gzip, CachedRepresentation? brotli)
{
    public IChangeToken Token => token;

    public StringValues ContentType => contentType;

    public CachedRepresentation Identity => identity;

    public CachedRepresentation? Gzip => gzip;

    public CachedRepresentation? Brotli => brotli;

    /// <summary>Whether the response depends on <c>Accept-Encoding</c>.</summary>
    public bool HasVariants => gzip is not null || brotli is not null;

    public long MemoryBytes => identity.MemoryBytes + (gzip?.MemoryBytes ?? 0) + (brotli?.MemoryBytes ?? 0);

    /// <summary>When the file was last served (<see cref="Environment.TickCount64"/>), for eviction.</summary>
    public long LastUse { get; set; } = Environment.TickCount64;
}
