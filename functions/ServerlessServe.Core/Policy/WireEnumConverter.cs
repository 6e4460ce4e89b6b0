using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessServe.Core.Policy;

/// <summary>Reads and writes an enum by an explicit table of wire names; any other token is refused.</summary>
internal sealed class WireEnumConverter<TEnum> : JsonConverter<TEnum>
    where TEnum : struct, Enum
{
    private readonly Dictionary<TEnum, string> _names;
    private readonly Dictionary<string, TEnum> _values;

    public WireEnumConverter(IReadOnlyDictionary<TEnum, string> names)
    {
        _names = new Dictionary<TEnum, string>(names);
        _values = names.ToDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);
    }

    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } text && _values.TryGetValue(text, out var value))
        {
            return value;
        }

        throw new JsonException($"Expected one of: {string.Join(", ", _values.Keys)}.");
    }

    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(_names.TryGetValue(value, out var name) ? name : throw new JsonException("Value has no wire name."));
    }
}
