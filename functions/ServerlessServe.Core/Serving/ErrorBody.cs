using System.Text.Json.Serialization;

namespace ServerlessServe.Core.Serving;

/// <summary>The V2 error body.</summary>
public sealed record ErrorBody([property: JsonPropertyName("error")] string Error);
