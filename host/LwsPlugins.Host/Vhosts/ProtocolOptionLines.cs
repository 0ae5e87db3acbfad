namespace LwsPlugins.Host.Vhosts;

/// <summary>Where each key of an options object is written: the file, and the line by dotted key path.</summary>
/// <param name="File">The file, as configuration messages name it.</param>
/// <param name="Lines">Line by dotted key path (<c>inner.limit</c>, <c>names[1]</c>); the empty path is the object itself.</param>
internal sealed record ProtocolOptionLines(string File, IReadOnlyDictionary<string, int> Lines)
{
    /// <summary>The line of <paramref name="keyPath"/>, or of the nearest enclosing key written.</summary>
    public int? LineOf(string keyPath)
    {
        for (var path = keyPath; ; path = Parent(path))
        {
            if (Lines.TryGetValue(path, out var line))
            {
                return line;
            }

            if (path.Length == 0)
            {
                return null;
            }
        }
    }

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? "" : path[..cut];
    }
}
