using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// The serializer options every signed artifact document is read and written with: camelCase, unknown, duplicate or
/// missing required properties refused, no comments, trailing commas or numbers as strings, depth 16, indented output.
/// </summary>
internal static class StrictJson
{
    /// <summary>New options with these rules and <paramref name="converters"/>, made read-only.</summary>
    public static JsonSerializerOptions Create(JsonIgnoreCondition ignore, params JsonConverter[] converters)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowDuplicateProperties = false,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            NumberHandling = JsonNumberHandling.Strict,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            DefaultIgnoreCondition = ignore,
            MaxDepth = 16,
            WriteIndented = true,
        };
        foreach (var converter in converters)
        {
            options.Converters.Add(converter);
        }

        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
