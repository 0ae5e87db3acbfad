using System.Globalization;

namespace LwsPlugins.Host.Backplane;

/// <summary>Where this server reads a channel's Redis stream on from: the id of the last entry it delivered.</summary>
internal sealed class RedisStreamCursor(string id)
{
    private volatile string _id = id;

    public string Id
    {
        get => _id;
        set => _id = value;
    }

    /// <summary>The id Redis gives an entry added at <paramref name="time"/> (its first); reading after it skips what came before.</summary>
    public static string At(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "-0";

    /// <summary>Orders two stream ids (<c>ms-seq</c>); an empty or unreadable one counts as 0-0.</summary>
    public static int Compare(string? left, string? right)
    {
        var (lm, ls) = Parse(left);
        var (rm, rs) = Parse(right);
        return lm != rm ? lm.CompareTo(rm) : ls.CompareTo(rs);
    }

    private static (ulong Ms, ulong Seq) Parse(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return (0, 0);
        }

        var dash = id.IndexOf('-', StringComparison.Ordinal);
        var ms = ulong.TryParse(dash < 0 ? id : id[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
        var seq = dash >= 0 && ulong.TryParse(id[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        return (ms, seq);
    }
}
