using System.Text.Json.Serialization;

namespace ServerlessServe.Hosting.Http;

/// <summary>Source-generated JSON for the small fixed bodies the hosts write.</summary>
[JsonSerializable(typeof(HealthBody))]
internal sealed partial class ServingJson : JsonSerializerContext;
