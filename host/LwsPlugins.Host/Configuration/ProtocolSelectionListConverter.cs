using System.Text.Json;
using System.Text.Json.Serialization;

namespace LwsPlugins.Host.Configuration;

/// <summary>
/// Reads <c>"protocols": { "name": { options }, ... }</c> keeping the order of the names (the first is the vhost's default),
/// or an array of names.
/// </summary>
internal sealed class ProtocolSelectionListConverter : JsonConverter<IList<ProtocolSelection>>
{
    /// <summary>An explicit <c>null</c> is refused: leaving <c>protocols</c> out is how a vhost serves every plugin.</summary>
    public override bool HandleNull => true;

    public override IList<ProtocolSelection> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            throw new JsonException("must be an object of protocol names (or an array of names), not null; leave protocols out to serve every loaded plugin.");
        }

        var result = new List<ProtocolSelection>();
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw new JsonException("a protocol in a list must be a string (its name).");
                }

                result.Add(new ProtocolSelection(reader.GetString()!));
            }

            return result;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("protocols must be an object mapping each protocol name to its options.");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            using var document = JsonDocument.ParseValue(ref reader);
            var value = document.RootElement;
            if (value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            {
                throw new JsonException($"the options of protocol '{name}' must be an object.");
            }

            result.Add(new ProtocolSelection(name, value.ValueKind == JsonValueKind.Object ? value.Clone() : null));
        }

        return result;
    }

    public override void Write(Utf8JsonWriter writer, IList<ProtocolSelection> value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteStartObject();
        foreach (var protocol in value)
        {
            writer.WritePropertyName(protocol.Name);
            if (protocol.Options is { } protocolOptions)
            {
                protocolOptions.WriteTo(writer);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }
        }

        writer.WriteEndObject();
    }
}
