using System.Text.Json.Serialization;

namespace ServerlessServe.Hosting.Http;

/// <summary>Body of the health endpoints: <c>{"live": true}</c> or <c>{"ready": false}</c>.</summary>
internal sealed record HealthBody(
    [property: JsonPropertyName("live"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Live,
    [property: JsonPropertyName("ready"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Ready);
