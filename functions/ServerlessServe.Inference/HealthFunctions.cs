using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessServe.Onnx;

namespace ServerlessServe.Inference;

/// <summary>V2 health and server metadata of the inference app (internal ingress only in Azure).</summary>
public static class HealthFunctions
{
    [Function("Live")]
    public static IActionResult Live([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v2/health/live")] HttpRequest request) =>
        InferenceEndpoints.Live();

    [Function("Ready")]
    public static IActionResult Ready([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v2/health/ready")] HttpRequest request) =>
        InferenceEndpoints.Ready();

    [Function("ServerMetadata")]
    public static IActionResult ServerMetadata([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v2")] HttpRequest request) =>
        InferenceEndpoints.ServerMetadata();
}
