using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// One representation of a cached file (the file itself or a precompressed variant): its bytes in memory, or for a file
/// too large for memory the physical path Kestrel sends it from, with validators formatted once.
/// </summary>
internal sealed class CachedRepresentation
{
    public CachedRepresentation(byte[]? content, string? physicalPath, long length, DateTimeOffset lastModified, string? encoding)
    {
        Content = content;
        PhysicalPath = physicalPath;
        Length = length;

        // Truncated to the second and hashed as StaticFileMiddleware does, so a file has the same validators whether it
        // is served from the cache or from its provider.
        LastModified = new DateTimeOffset(lastModified.Year, lastModified.Month, lastModified.Day, lastModified.Hour, lastModified.Minute, lastModified.Second, lastModified.Offset).ToUniversalTime();
        ETag = "\"" + Convert.ToString(LastModified.ToFileTime() ^ length, 16) + "\"";
        ETagHeader = ETag;
        LastModifiedHeader = HeaderUtilities.FormatDate(LastModified);
        Encoding = encoding;
    }

    /// <summary>The bytes, or <see langword="null"/> for a representation sent from <see cref="PhysicalPath"/>.</summary>
    public byte[]? Content { get; }

    public string? PhysicalPath { get; }

    public long Length { get; }

    public DateTimeOffset LastModified { get; }

    /// <summary>The strong entity tag, quoted.</summary>
    public string ETag { get; }

    public StringValues ETagHeader { get; }

    public StringValues LastModifiedHeader { get; }

    /// <summary>The <c>Content-Encoding</c> (gzip, br), or empty for the file itself.</summary>
    public StringValues Encoding { get; }

    /// <summary>The bytes it holds in memory.</summary>
    public long MemoryBytes => Content?.LongLength ?? 0;
}
