using System.Text;
using System.Text.Json;

namespace LwsPlugins.Host.Configuration;

/// <summary>
/// A conf.d file holding an array of vhosts, one vhost at a time: each element's text padded with the newlines before
/// it, so its errors keep the file's line numbers. Lets a reload apply the good vhosts of a file with one bad one.
/// </summary>
internal static class VhostArraySplit
{
    /// <summary>The elements of a top-level array, or null when the text is not one (or not JSON at all).</summary>
    public static IReadOnlyList<string>? Elements(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var elements = new List<string>();
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                var end = (int)reader.BytesConsumed;
                var lineBreaks = bytes.AsSpan(0, start).Count((byte)'\n');
                elements.Add(new string('\n', lineBreaks) + Encoding.UTF8.GetString(bytes, start, end - start));
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return elements;
    }
}
