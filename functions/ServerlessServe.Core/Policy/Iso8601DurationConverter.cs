using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml;

namespace ServerlessServe.Core.Policy;

/// <summary>
/// Reads and writes a <see cref="TimeSpan"/> as an ISO 8601 duration (<c>PT1H</c>, <c>P1DT12H</c>, <c>PT90S</c>). The
/// schema allows only days, hours, minutes and seconds (no years or months, whose length varies) and no sign.
/// </summary>
internal sealed class Iso8601DurationConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 1 } text && text[0] == 'P')
        {
            try
            {
                return XmlConvert.ToTimeSpan(text);
            }
            catch (FormatException)
            {
                // Reported below as the one error this converter gives.
            }
            catch (OverflowException)
            {
                // Reported below as the one error this converter gives.
            }
        }

        throw new JsonException("Expected an ISO 8601 duration such as PT1H.");
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(XmlConvert.ToString(value));
    }
}
