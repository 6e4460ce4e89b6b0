using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessServe.Onnx;

namespace ServerlessServe.Inference;

/// <summary>V2 health and server metadata of the inference app (internal ingress only in Azure).</summary>
public sealed class HealthFunctions(InferenceEndpoints inference)
{
    [Function("Live")]
    public static IActionResult Live([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/health/live")] HttpRequest request) =>
        InferenceEndpoints.Live();

    [Function("Ready")]
    public IActionResult Ready([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/health/ready")] HttpRequest request) =>
        inference.Ready();

    [Function("ServerMetadata")]
    public static IActionResult ServerMetadata([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2")] HttpRequest request) =>
        InferenceEndpoints.ServerMetadata();
}
