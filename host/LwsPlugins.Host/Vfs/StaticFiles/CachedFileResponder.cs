using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace LwsPlugins.Host.Vfs.StaticFiles;

/// <summary>
/// Answers a GET or HEAD from a cached file as StaticFileMiddleware answers from disk: the representation the request
/// accepts, preconditions (RFC 9110 13: 412, 304), one byte range (206, or 416 with <c>bytes */length</c>), the same
/// validators. A request for several ranges gets the whole representation with 200 (RFC 9110 14.2 lets a server ignore
/// Range; StaticFileMiddleware does the same).
/// </summary>
internal static class CachedFileResponder
{
    private static readonly StringValues s_bytes = "bytes";
    private static readonly StringValues s_acceptEncoding = HeaderNames.AcceptEncoding;

    public static Task SendAsync(HttpContext context, CachedFile file, bool head, StringValues cacheControl, TimeProvider time)
    {
        var requestHeaders = context.Request.Headers;
        var response = context.Response;
        var headers = response.Headers;
        var representation = file.Identity;
        if (file.HasVariants)
        {
            headers.Vary = s_acceptEncoding;
            if (requestHeaders.AcceptEncoding.Count > 0)
            {
                var accepted = AcceptEncoding.Parse(requestHeaders.AcceptEncoding);
                representation = (accepted & AcceptEncoding.Codings.Brotli) != 0 && file.Brotli is { } brotli ? brotli
                    : (accepted & AcceptEncoding.Codings.Gzip) != 0 && file.Gzip is { } gzip ? gzip
                    : representation;
            }
        }

        if (cacheControl.Count > 0)
        {
            headers.CacheControl = cacheControl;
        }

        if (requestHeaders.IfMatch.Count > 0 || requestHeaders.IfNoneMatch.Count > 0 || requestHeaders.IfModifiedSince.Count > 0 || requestHeaders.IfUnmodifiedSince.Count > 0)
        {
            switch (Preconditions(requestHeaders, representation, time.GetUtcNow()))
            {
                case StatusCodes.Status412PreconditionFailed:
                    response.StatusCode = StatusCodes.Status412PreconditionFailed;
                    return Task.CompletedTask;
                case StatusCodes.Status304NotModified:
                    WriteValidators(headers, file, representation);
                    response.StatusCode = StatusCodes.Status304NotModified;
                    return Task.CompletedTask;
            }
        }

        long start = 0;
        var length = representation.Length;
        if (!head && requestHeaders.Range.Count > 0 && TryGetRange(requestHeaders, representation, out var satisfiable, out var from, out var to))
        {
            if (!satisfiable)
            {
                headers.ContentRange = "bytes */" + representation.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                return Task.CompletedTask;
            }

            start = from;
            length = to - from + 1;
            headers.ContentRange = new ContentRangeHeaderValue(from, to, representation.Length).ToString();
            response.StatusCode = StatusCodes.Status206PartialContent;
        }

        WriteValidators(headers, file, representation);
        if (representation.Encoding.Count > 0)
        {
            headers.ContentEncoding = representation.Encoding;
        }

        response.ContentLength = length;
        if (head)
        {
            return Task.CompletedTask;
        }

        if (representation.Content is { } content)
        {
            var write = response.BodyWriter.WriteAsync(content.AsMemory((int)start, (int)length), context.RequestAborted);
            return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
        }

        return response.SendFileAsync(representation.PhysicalPath!, start, length, CancellationToken.None);
    }

    private static void WriteValidators(IHeaderDictionary headers, CachedFile file, CachedRepresentation representation)
    {
        if (file.ContentType.Count > 0)
        {
            headers.ContentType = file.ContentType;
        }

        headers.LastModified = representation.LastModifiedHeader;
        headers.ETag = representation.ETagHeader;
        headers.AcceptRanges = s_bytes;
    }

    /// <summary>RFC 9110 13.2.2: If-Match, else If-Unmodified-Since (412); then If-None-Match, else If-Modified-Since (304); 0 to go on.</summary>
    private static int Preconditions(IHeaderDictionary headers, CachedRepresentation representation, DateTimeOffset now)
    {
        if (headers.IfMatch.Count > 0)
        {
            if (!AnyTagMatches(headers.IfMatch, representation, strong: true))
            {
                return StatusCodes.Status412PreconditionFailed;
            }
        }
        else if (TryDate(headers.IfUnmodifiedSince, out var unmodifiedSince) && unmodifiedSince <= now && representation.LastModified > unmodifiedSince)
        {
            return StatusCodes.Status412PreconditionFailed;
        }

        if (headers.IfNoneMatch.Count > 0)
        {
            return AnyTagMatches(headers.IfNoneMatch, representation, strong: false) ? StatusCodes.Status304NotModified : 0;
        }

        return TryDate(headers.IfModifiedSince, out var modifiedSince) && modifiedSince <= now && representation.LastModified <= modifiedSince
            ? StatusCodes.Status304NotModified
            : 0;
    }

    private static bool AnyTagMatches(StringValues header, CachedRepresentation representation, bool strong)
    {
        if (!EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        foreach (var tag in tags)
        {
            if (tag.Equals(EntityTagHeaderValue.Any)
                || ((!strong || !tag.IsWeak) && tag.Tag.Equals(representation.ETag, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryDate(StringValues header, out DateTimeOffset date)
    {
        date = default;
        return header.Count == 1 && HeaderUtilities.TryParseDate(header.ToString(), out date);
    }

    /// <summary>
    /// Whether the request is a range request this server honours (one byte range, If-Range matching); when it is,
    /// whether the range is satisfiable and its first and last byte.
    /// </summary>
    private static bool TryGetRange(IHeaderDictionary headers, CachedRepresentation representation, out bool satisfiable, out long from, out long to)
    {
        satisfiable = false;
        from = to = 0;
        var raw = headers.Range;
        if (raw.Count != 1 || raw[0] is not { } value || value.Contains(',', StringComparison.Ordinal)
            || !RangeHeaderValue.TryParse(value, out var range) || !range.Unit.Equals("bytes", StringComparison.OrdinalIgnoreCase) || range.Ranges.Count != 1)
        {
            return false;
        }

        if (headers.IfRange.Count > 0)
        {
            if (!RangeConditionHeaderValue.TryParse(headers.IfRange.ToString(), out var condition))
            {
                return false;
            }

            var matches = condition.LastModified is { } date ? representation.LastModified <= date
                : condition.EntityTag is { IsWeak: false } tag && tag.Tag.Equals(representation.ETag, StringComparison.Ordinal);
            if (!matches)
            {
                return false;
            }
        }

        var length = representation.Length;
        var item = range.Ranges.First();
        if (item.From is { } start)
        {
            if (start >= length)
            {
                return true;
            }

            from = start;
            to = Math.Min(item.To ?? (length - 1), length - 1);
        }
        else if (item.To is { } suffix && suffix > 0 && length > 0)
        {
            from = Math.Max(length - suffix, 0);
            to = length - 1;
        }
        else
        {
            return true;
        }

        satisfiable = true;
        return true;
    }
}
