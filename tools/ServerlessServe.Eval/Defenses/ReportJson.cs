using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessServe.Eval.Defenses;

/// <summary>The JSON of reports: camelCase, indented, enums by their camelCase names (as in policy.json), nulls left out.</summary>
internal static class ReportJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);
}
