using System.Text.Json;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Hosting.Http;

/// <summary>Bodies of the health and server metadata endpoints, shared by both apps.</summary>
public static class HealthResults
{
    public const string ServerName = "serverlessserve";

    public static BodyResult Live() =>
        V2Results.JsonBody(JsonSerializer.SerializeToUtf8Bytes(new HealthBody(true, null), ServingJson.Default.HealthBody));

    public static BodyResult Ready(bool ready) =>
        V2Results.JsonBody(JsonSerializer.SerializeToUtf8Bytes(new HealthBody(null, ready), ServingJson.Default.HealthBody), ready ? 200 : 503);

    public static BodyResult ServerMetadata() =>
        V2Results.JsonBody(V2Json.WriteServerMetadata(new ServerMetadata
        {
            Name = ServerName,
            Version = typeof(HealthResults).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            Extensions = ["binary_tensor_data"],
        }));
}
