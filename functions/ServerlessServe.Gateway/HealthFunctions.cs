using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Gateway;

/// <summary>V2 health and server metadata: open to anyone, they reveal nothing about models or callers.</summary>
public sealed class HealthFunctions(GatewayEndpoints gateway)
{
    [Function("Live")]
    public static IActionResult Live([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/health/live")] HttpRequest request) =>
        GatewayEndpoints.Live();

    [Function("Ready")]
    public Task<IActionResult> Ready([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/health/ready")] HttpRequest request) =>
        gateway.ReadyAsync(request.HttpContext.RequestAborted);

    [Function("ServerMetadata")]
    public static IActionResult ServerMetadata([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2")] HttpRequest request) =>
        GatewayEndpoints.ServerMetadata();
}
