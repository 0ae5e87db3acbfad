using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LwsPlugins.Host.Configuration;

/// <summary>
/// What the configuration's JSON says before it is bound: every value's text and line by its JSON path (as
/// System.Text.Json names the path in its errors), so a binding error can be told in the user's words (the vhost by
/// name, the key, the expected kind of value, the value given, the file and line), and a key given twice in one object
/// is refused instead of the last one silently winning.
/// </summary>
internal sealed partial class ConfigurationJsonText
{
    private readonly Dictionary<string, (string Text, int Line)> _values = new(StringComparer.Ordinal);
    private readonly string _source;
    private readonly Type _root;
    private readonly bool _rootIsVhosts;

    private ConfigurationJsonText(string source, Type root)
    {
        _source = source;
        _root = root;
        _rootIsVhosts = root != typeof(LwsServerOptions);
    }

    /// <summary>Reads <paramref name="json"/>; a syntax error or a duplicate key throws with the file and line.</summary>
    public static ConfigurationJsonText Read(string json, string source, Type root)
    {
        var text = new ConfigurationJsonText(source, root);
        var bytes = Encoding.UTF8.GetBytes(json);
        var lines = new List<int>();
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\n')
            {
                lines.Add(i);
            }
        }

        int LineOf(long position)
        {
            var index = lines.BinarySearch((int)position);
            return (index < 0 ? ~index : index) + 1;
        }

        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var path = new Stack<(string Path, HashSet<string>? Keys, int Index)>();
        string? property = null;
        try
        {
            while (reader.Read())
            {
                var line = LineOf(reader.TokenStartIndex);
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        property = reader.GetString()!;
                        var (objectPath, keys, _) = path.Peek();
                        if (!keys!.Add(property))
                        {
                            throw new LwsConfigurationException(text.Say(Append(objectPath, property), "is given twice; each key may appear once", line));
                        }

                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        var here = NextPath(path, ref property);
                        text._values[here] = (reader.TokenType == JsonTokenType.StartObject ? "an object" : "an array", line);
                        path.Push((here, reader.TokenType == JsonTokenType.StartObject ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) : null, 0));
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        path.Pop();
                        continue;
                    default:
                        var value = reader.TokenType == JsonTokenType.String ? "\"" + reader.GetString() + "\"" : Encoding.UTF8.GetString(reader.ValueSpan);
                        text._values[NextPath(path, ref property)] = (value, line);
                        continue;
                }
            }
        }
        catch (JsonException ex)
        {
            throw new LwsConfigurationException($"{source}, line {(ex.LineNumber ?? 0) + 1}: not valid JSON: {FirstSentence(ex.Message)}", ex);
        }

        return text;
    }

    /// <summary>
    /// The line of every value under <paramref name="path"/> (a JSON path as this type writes it), by dotted key path
    /// relative to it (<c>inner.limit</c>, <c>names[1]</c>; the empty path is the value itself); the first key of
    /// <paramref name="path"/> is matched ignoring case, as the binder matches it.
    /// </summary>
    internal Dictionary<string, int> LinesUnder(string path)
    {
        var lines = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, (_, line)) in _values)
        {
            if (key.StartsWith(path, StringComparison.OrdinalIgnoreCase) && (key.Length == path.Length || key[path.Length] is '.' or '['))
            {
                lines[BracketName().Replace(key[path.Length..], ".$1").TrimStart('.')] = line;
            }
        }

        return lines;
    }

    /// <summary>The message for a binding error of System.Text.Json, in the user's words.</summary>
    public string Explain(JsonException ex)
    {
        var path = ex.Path ?? "$";
        var line = _values.TryGetValue(path, out var found) ? found.Line : (int)(ex.LineNumber ?? 0) + 1;
        if (MissingRequired().Match(ex.Message) is { Success: true } missing)
        {
            return Say(Append(path, JsonNamingPolicy.CamelCase.ConvertName(missing.Groups[1].Value)), "is required", line);
        }

        if (UnknownMember().Match(ex.Message) is { Success: true } unknown)
        {
            var key = unknown.Groups[1].Value;
            var keyPath = path.EndsWith("." + key, StringComparison.Ordinal) || path.EndsWith($"['{key}']", StringComparison.Ordinal) ? path : Append(path, key);
            return Say(keyPath, "is not a known key (check its spelling)", _values.TryGetValue(keyPath, out var at) ? at.Line : line);
        }

        // A converter of ours (protocols) says what it wants in its own words; System.Text.Json's own say .NET types.
        if (ex.InnerException is null && !ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return Say(path, FirstSentence(ex.Message), line);
        }

        var given = found.Text ?? "nothing";
        return Expectation(path) is { } expected
            ? Say(path, $"must be {expected}, was {given}", line)
            : Say(path, $"{FirstSentence(ex.Message)} (was {given})", line);
    }

    private string Say(string path, string what, int line)
    {
        var (vhost, key) = Split(path);
        var where = vhost is null ? "" : $"{vhost}: ";
        return $"{where}{(key.Length == 0 ? "" : key + ": ")}{what} ({_source}, line {line})";
    }

    /// <summary><c>$.vhosts[0].mounts[1].origin</c> → (<c>vhost 'main'</c>, <c>mounts[1].origin</c>).</summary>
    private (string? Vhost, string Key) Split(string path)
    {
        var match = (_rootIsVhosts ? VhostsDocumentPrefix() : ServerFilePrefix()).Match(path);
        if (!match.Success || (!_rootIsVhosts && !match.Groups["index"].Success))
        {
            return (null, path.TrimStart('$').TrimStart('.'));
        }

        var prefix = match.Value;
        var key = path[prefix.Length..].TrimStart('.');
        var name = _values.FirstOrDefault(v => string.Equals(v.Key, prefix + ".name", StringComparison.OrdinalIgnoreCase)).Value.Text;
        var label = name is { Length: > 2 } && name[0] == '"' ? $"vhost '{name[1..^1]}'" : match.Groups["index"].Success ? $"vhosts[{match.Groups["index"].Value}]" : "the vhost";
        return (label, key);
    }

    private string? Expectation(string path)
    {
        var type = _root;
        PropertyInfo? last = null;
        foreach (Match segment in PathSegment().Matches(path))
        {
            if (segment.Groups["index"].Success)
            {
                type = ElementType(type) ?? type;
                continue;
            }

            var name = segment.Groups["name"].Value;
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                type = type.GetGenericArguments()[1];
                continue;
            }

            last = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (last is null)
            {
                return null;
            }

            type = last.PropertyType;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(int) || type == typeof(long))
        {
            return last?.Name == "Port" ? "a whole number from 0 to 65535" : type == typeof(int) ? "a whole number" : "a whole number (of bytes)";
        }

        return type == typeof(bool) ? "true or false"
            : type == typeof(double) ? "a number"
            : type == typeof(string) ? "a string in quotes"
            : type.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(type).Select(n => $"\"{JsonNamingPolicy.CamelCase.ConvertName(n)}\""))
            : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) ? "an object { \"key\": value }"
            : ElementType(type) is not null ? "an array [ ... ]"
            : type.IsClass ? "an object { ... }"
            : null;
    }

    private static Type? ElementType(Type type)
        => type == typeof(string) ? null
            : type.IsArray ? type.GetElementType()
            : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments() is [var element] ? element
            : null;

    private static string NextPath(Stack<(string Path, HashSet<string>? Keys, int Index)> path, ref string? property)
    {
        if (path.Count == 0)
        {
            return "$";
        }

        var (parent, keys, index) = path.Peek();
        if (keys is not null)
        {
            var named = Append(parent, property!);
            property = null;
            return named;
        }

        path.Pop();
        path.Push((parent, null, index + 1));
        return $"{parent}[{index}]";
    }

    internal static string Append(string path, string property)
        => SimpleName().IsMatch(property) ? $"{path}.{property}" : $"{path}['{property}']";

    /// <summary>A System.Text.Json message without its own "Path: $ | LineNumber: 0 | ..." tail (the caller names the place).</summary>
    internal static string FirstSentence(string message)
    {
        foreach (var marker in new[] { " Path:", " LineNumber:", " | " })
        {
            var cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }
        }

        return message.TrimEnd();
    }

    [GeneratedRegex(@"missing required properties including: '([^']+)'")]
    private static partial Regex MissingRequired();

    [GeneratedRegex(@"The JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnknownMember();

    [GeneratedRegex(@"^\$\.vhosts(\[(?<index>\d+)\])?", RegexOptions.IgnoreCase)]
    private static partial Regex ServerFilePrefix();

    [GeneratedRegex(@"^\$(\[(?<index>\d+)\])?")]
    private static partial Regex VhostsDocumentPrefix();

    [GeneratedRegex(@"\.(?<name>[A-Za-z_][A-Za-z0-9_]*)|\['(?<name>[^']*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();

    [GeneratedRegex(@"\['([^']*)'\]")]
    private static partial Regex BracketName();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex SimpleName();
}
