using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using LwsPlugins.Sdk;

namespace LwsPlugins.Host.Vhosts;

/// <summary>
/// Binds merged protocol options onto a plugin's options object with nothing taken silently: every key must be a
/// property (matched case-insensitively), every value must be of the property's kind (no string for a number, no object
/// for a number, no fraction for a whole number, numbers within the type's range), <c>null</c> only where the property
/// is nullable, and lists are replaced as given. Reflection over the plugin's type only, nothing cached: a plugin's
/// load context must stay collectible (System.Text.Json's reflection metadata cache would hold it).
/// </summary>
internal sealed class StrictOptionsBinder
{
    private readonly NullabilityInfoContext _nullability = new();

    /// <summary>Binds <paramref name="root"/>'s members onto <paramref name="target"/>.</summary>
    /// <exception cref="ProtocolOptionsException">A key or value is refused; the message names where and why.</exception>
    public static void Bind(object target, ProtocolOptionNode root)
        => new StrictOptionsBinder().BindObject(target, target.GetType(), root.Members!);

    private void BindObject(object target, Type type, Dictionary<string, ProtocolOptionNode> members)
    {
        foreach (var node in members.Values)
        {
            var property = FindProperty(type, node.Key);
            if (property is null)
            {
                var known = BindableProperties(type).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name));
                throw new ProtocolOptionsException(node.Say($"is not an option of this protocol (its options: {string.Join(", ", known)})"));
            }

            var nullability = _nullability.Create(property);
            var propertyType = property.PropertyType;
            if (node.Members is { } nested && IsPlainObject(propertyType))
            {
                // An object merges into what the property holds (its class defaults, or the earlier layer's values).
                var current = property.GetValue(target) ?? Create(propertyType, node);
                BindObject(current, propertyType, nested);
                SetOrRefuse(target, property, current, node);
                continue;
            }

            SetOrRefuse(target, property, Convert(node, propertyType, nullability), node);
        }
    }

    private static void SetOrRefuse(object target, PropertyInfo property, object? value, ProtocolOptionNode node)
    {
        if (property.SetMethod is { IsPublic: true })
        {
            property.SetValue(target, value);
        }
        else if (property.GetValue(target) is IList { IsReadOnly: false, IsFixedSize: false } held && value is IList given && !ReferenceEquals(held, given))
        {
            // A list the type creates itself and exposes without a setter is refilled: the given list replaces it.
            held.Clear();
            foreach (var item in given)
            {
                held.Add(item);
            }
        }
        else if (!ReferenceEquals(property.GetValue(target), value))
        {
            throw new ProtocolOptionsException(node.Say("cannot be set (the options type gives it no public setter)"));
        }
    }

    private object? Convert(ProtocolOptionNode node, Type type, NullabilityInfo nullability)
    {
        var value = node.Value;
        var underlying = Nullable.GetUnderlyingType(type);
        if (value.ValueKind == JsonValueKind.Null)
        {
            var nullable = underlying is not null || (!type.IsValueType && nullability.WriteState != NullabilityState.NotNull);
            return nullable ? null : throw Refuse(node, type, "must be {0}, was null (this option cannot be null)");
        }

        type = underlying ?? type;
        if (DictionaryValueType(type) is { } valueType)
        {
            if (node.Members is not { } entries)
            {
                throw Refuse(node, type);
            }

            var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType), StringComparer.Ordinal)!;
            foreach (var entry in entries.Values)
            {
                dictionary[entry.Key] = Convert(entry, valueType, nullability.GenericTypeArguments.Length == 2 ? nullability.GenericTypeArguments[1] : nullability);
            }

            return dictionary;
        }

        if (ElementType(type) is { } elementType)
        {
            if (value.ValueKind != JsonValueKind.Array)
            {
                throw Refuse(node, type);
            }

            var elementNullability = nullability.ElementType ?? (nullability.GenericTypeArguments is [var argument] ? argument : nullability);
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType))!;
            var index = 0;
            foreach (var element in value.EnumerateArray())
            {
                var item = ProtocolOptionsLayers.FromElement($"{node.Key}[{index}]", element, node.Layer, $"{node.Path}[{index}]");
                list.Add(Convert(item, elementType, elementNullability));
                index++;
            }

            if (type.IsArray)
            {
                var array = Array.CreateInstance(elementType, list.Count);
                list.CopyTo(array, 0);
                return array;
            }

            return list;
        }

        if (IsPlainObject(type))
        {
            if (node.Members is not { } members)
            {
                throw Refuse(node, type);
            }

            var instance = Create(type, node);
            BindObject(instance, type, members);
            return instance;
        }

        return Scalar(node, type);
    }

    private static object Scalar(ProtocolOptionNode node, Type type)
    {
        var value = node.Value;
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : null;
        // A number or true/false may also come as exactly its text ("50", "true"): lwsws's per-vhost options (pvo) are
        // all strings, and lws's plugins parse them. Anything else in quotes is refused.
        const NumberStyles Whole = NumberStyles.AllowLeadingSign;
        const NumberStyles Real = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
        var invariant = CultureInfo.InvariantCulture;
        object? result = Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => text is "true" or "false" ? text == "true" : null,
            },
            TypeCode.String => text,
            TypeCode.Char => text is { Length: 1 } ? text[0] : null,
            TypeCode.SByte or TypeCode.Byte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64
                when !type.IsEnum => (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var whole)) || (text is not null && long.TryParse(text, Whole, invariant, out whole))
                    ? InRange(whole, type) : null,
            TypeCode.UInt64 when !type.IsEnum => (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var big)) || (text is not null && ulong.TryParse(text, Whole, invariant, out big))
                ? big : null,
            TypeCode.Single => ((value.ValueKind == JsonValueKind.Number && value.TryGetSingle(out var single)) || (text is not null && float.TryParse(text, Real, invariant, out single))) && float.IsFinite(single)
                ? single : null,
            TypeCode.Double => ((value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number)) || (text is not null && double.TryParse(text, Real, invariant, out number))) && double.IsFinite(number)
                ? number : null,
            TypeCode.Decimal => (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var exact)) || (text is not null && decimal.TryParse(text, Real, invariant, out exact))
                ? exact : null,
            _ => null,
        };

        if (type.IsEnum)
        {
            // A name only: a number would pass any value, and "1" is not what the user reads in the docs.
            result = text is { Length: > 0 } && !char.IsAsciiDigit(text[0]) && text[0] != '-' && Enum.TryParse(type, text, ignoreCase: true, out var parsed)
                && Enum.IsDefined(type, parsed) ? parsed : null;
        }
        else if (type == typeof(TimeSpan))
        {
            result = text is not null && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) ? span : null;
        }
        else if (type == typeof(DateTimeOffset))
        {
            result = text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment) ? moment : null;
        }
        else if (type == typeof(DateTime))
        {
            result = text is not null && DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date) ? date : null;
        }
        else if (type == typeof(Guid))
        {
            result = text is not null && Guid.TryParse(text, out var guid) ? guid : null;
        }
        else if (type == typeof(Uri))
        {
            result = text is not null && Uri.TryCreate(text, UriKind.RelativeOrAbsolute, out var uri) ? uri : null;
        }
        else if (Type.GetTypeCode(type) == TypeCode.Object && Describe(type) is null)
        {
            throw new ProtocolOptionsException(node.Say($"cannot be bound: the options type's {type.Name} is not a kind of value the host binds (numbers, true/false, strings, enums, time spans, lists, objects)"));
        }

        return result ?? throw Refuse(node, type);
    }

    private static object? InRange(long value, Type type)
    {
        var min = System.Convert.ToInt64(type.GetField("MinValue")!.GetValue(null), CultureInfo.InvariantCulture);
        var max = type == typeof(ulong) ? long.MaxValue : System.Convert.ToInt64(type.GetField("MaxValue")!.GetValue(null), CultureInfo.InvariantCulture);
        return value < min || value > max ? null : System.Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
    }

    private static ProtocolOptionsException Refuse(ProtocolOptionNode node, Type type, string format = "must be {0}, was {1}")
        => new(node.Say(string.Format(CultureInfo.InvariantCulture, format, Describe(Nullable.GetUnderlyingType(type) ?? type) ?? "a " + type.Name, Given(node.Value))));

    /// <summary>What the user wrote, as configuration messages show it.</summary>
    private static string Given(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => value.GetRawText() is { Length: <= 80 } raw ? raw : value.GetRawText()[..77] + "...\"",
        _ => value.GetRawText(),
    };

    /// <summary>What a type takes, in the user's words; <see langword="null"/> for a type the binder cannot fill.</summary>
    internal static string? Describe(Type type)
    {
        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type).Select(n => $"\"{JsonNamingPolicy.CamelCase.ConvertName(n)}\""));
        }

        switch (Type.GetTypeCode(type))
        {
            case TypeCode.Boolean:
                return "true or false";
            case TypeCode.SByte or TypeCode.Byte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64:
                return $"a whole number from {type.GetField("MinValue")!.GetValue(null)} to {type.GetField("MaxValue")!.GetValue(null)}";
            case TypeCode.Single or TypeCode.Double or TypeCode.Decimal:
                return "a number";
            case TypeCode.String:
                return "a string in quotes";
            case TypeCode.Char:
                return "a single character in quotes";
            case TypeCode.DateTime:
                return "a date and time in quotes (ISO 8601)";
        }

        return type == typeof(TimeSpan) ? "a time span in quotes such as \"00:00:05\""
            : type == typeof(DateTimeOffset) ? "a date and time in quotes (ISO 8601)"
            : type == typeof(Guid) ? "a GUID in quotes"
            : type == typeof(Uri) ? "a URI in quotes"
            : DictionaryValueType(type) is not null ? "an object { \"key\": value }"
            : ElementType(type) is not null ? "an array [ ... ]"
            : IsPlainObject(type) ? "an object { ... }"
            : null;
    }

    private static PropertyInfo? FindProperty(Type type, string key)
        => BindableProperties(type).FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<PropertyInfo> BindableProperties(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.SetMethod is { IsPublic: true } || (p.GetMethod is { IsPublic: true } && (IsPlainObject(p.PropertyType) || ElementType(p.PropertyType) is not null))));

    private static bool IsPlainObject(Type type)
        => type.IsClass && type != typeof(string) && type != typeof(Uri) && !typeof(IEnumerable).IsAssignableFrom(type) && !typeof(Delegate).IsAssignableFrom(type)
            && type.GetConstructor(Type.EmptyTypes) is not null;

    private static object Create(Type type, ProtocolOptionNode node)
    {
        try
        {
            return Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException ex)
        {
            throw new ProtocolOptionsException(node.Say($"cannot be bound: creating the options type's {type.Name} failed: {ex.InnerException?.Message}"), ex);
        }
    }

    /// <summary>The element type of a list the binder can fill with a new list: an array, <c>List&lt;T&gt;</c> or one of its interfaces.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray && type.GetArrayRank() == 1)
        {
            return type.GetElementType();
        }

        if (type.IsGenericType && type.GetGenericArguments() is [var element] && type.IsAssignableFrom(typeof(List<>).MakeGenericType(element)))
        {
            return element;
        }

        return null;
    }

    /// <summary>The value type of a string-keyed dictionary the binder can fill with a new <c>Dictionary&lt;string, T&gt;</c>.</summary>
    private static Type? DictionaryValueType(Type type)
        => type.IsGenericType && type.GetGenericArguments() is [var key, var value] && key == typeof(string)
            && type.IsAssignableFrom(typeof(Dictionary<,>).MakeGenericType(key, value))
                ? value
                : null;
}
