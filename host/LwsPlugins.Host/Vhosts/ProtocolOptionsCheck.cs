using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// Checks a JSON layer of protocol options against the plugin's options type before it is bound, so that a value that
/// cannot be converted, or a key the type does not have, is told in the author's words: the key as written, the value,
/// and what was expected ("a whole number"), not the binder's CLR type names.
/// </summary>
internal static class ProtocolOptionsCheck
{
    /// <summary>Returns the first problem as <c>key: reason</c> (the key as a dotted path), or <see langword="null"/>.</summary>
    public static string? Find(Type optionsType, JsonElement layer) => Find(optionsType, layer, "");

    private static string? Find(Type type, JsonElement layer, string prefix)
    {
        foreach (var entry in layer.EnumerateObject())
        {
            var key = prefix + entry.Name;
            var property = type.GetProperty(entry.Name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                var known = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name));
                return $"{key}: is not an option of this protocol (its options: {string.Join(", ", known)}).";
            }

            var target = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var value = entry.Value;
            switch (value.ValueKind)
            {
                case JsonValueKind.Null or JsonValueKind.Undefined:
                    continue;
                case JsonValueKind.Object:
                    if (IsScalar(target))
                    {
                        return $"{key}: must be {Describe(target)}, not an object.";
                    }

                    if (!typeof(System.Collections.IEnumerable).IsAssignableFrom(target) && Find(target, value, key + ".") is { } nested)
                    {
                        return nested;
                    }

                    continue;
                case JsonValueKind.Array:
                    if (IsScalar(target))
                    {
                        return $"{key}: must be {Describe(target)}, not a list.";
                    }

                    continue;
            }

            if (!IsScalar(target))
            {
                return $"{key}: must be an object, not '{value}'.";
            }

            var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
            if (target != typeof(string) && !Converts(target, text))
            {
                return $"{key}: '{text}' is not {Describe(target)}.";
            }
        }

        return null;
    }

    private static bool IsScalar(Type type)
        => type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri);

    private static bool Converts(Type type, string text)
    {
        try
        {
            // The converter the configuration binder itself uses.
            TypeDescriptor.GetConverter(type).ConvertFromString(null, CultureInfo.InvariantCulture, text);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException || ex.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Describe(Type type)
    {
        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type));
        }

        return Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "true or false",
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64
                => $"a whole number from {MinOf(type)} to {MaxOf(type)}",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            TypeCode.Char => "a single character",
            _ when type == typeof(TimeSpan) => "a time span such as 00:00:05",
            _ when type == typeof(Uri) => "a URI",
            _ => "a " + type.Name,
        };
    }

    private static object? MinOf(Type type) => type.GetField("MinValue")?.GetValue(null);

    private static object? MaxOf(Type type) => type.GetField("MaxValue")?.GetValue(null);
}
