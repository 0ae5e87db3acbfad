namespace LwsPlugins.Host.Vfs;

/// <summary>Rules for VFS paths and prefixes: '/'-separated, matched on whole segments, never leaving their root.</summary>
internal static class VfsPath
{
    /// <summary>Whether <paramref name="prefix"/> is a valid provider prefix: <c>/</c>, or <c>/a/b</c> without a trailing slash.</summary>
    public static bool IsValidPrefix(string? prefix)
        => prefix == "/" || (prefix is { Length: > 1 } && prefix[0] == '/' && !prefix.EndsWith('/') && !prefix.Contains("//", StringComparison.Ordinal) && IsSafe(prefix));

    /// <summary>
    /// Whether a path stays inside its root: no <c>.</c> or <c>..</c> segment, no backslash, no NUL or other control
    /// character, no <c>%</c> (a sequence the server left encoded, such as <c>%2F</c> or overlong UTF-8), no ':'.
    /// </summary>
    public static bool IsSafe(string path)
    {
        foreach (var c in path)
        {
            if (c is '\\' or '%' or ':' || char.IsControl(c))
            {
                return false;
            }
        }

        // Segment by segment without splitting: this runs on every request.
        foreach (var range in path.AsSpan().Split('/'))
        {
            var segment = path.AsSpan()[range];
            if (segment is "." or "..")
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="prefix"/> matches <paramref name="path"/> on whole segments (<c>/a</c> matches <c>/a</c> and <c>/a/b</c>, not <c>/ab</c>).</summary>
    public static bool Matches(string prefix, string path)
        => prefix == "/"
            || (path.StartsWith(prefix, StringComparison.Ordinal) && (path.Length == prefix.Length || path[prefix.Length] == '/'));

    /// <summary>The rest of <paramref name="path"/> after <paramref name="prefix"/>, starting with '/' (or empty for the prefix itself).</summary>
    public static string Remainder(string prefix, string path) => prefix == "/" ? path : path[prefix.Length..];

    /// <summary>Joins a base path and a sub-path with exactly one '/'.</summary>
    public static string Combine(string basePath, string subpath)
    {
        var head = basePath.TrimEnd('/');
        var tail = subpath.TrimStart('/');
        return tail.Length == 0 ? (head.Length == 0 ? "/" : head) : head + "/" + tail;
    }
}
