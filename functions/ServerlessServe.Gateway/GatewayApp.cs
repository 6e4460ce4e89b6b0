using Microsoft.Extensions.Hosting;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Jobs;

namespace ServerlessServe.Gateway;

/// <summary>What the gateway runs, for both hosts and the in-process tests: one line per feature.</summary>
public static class GatewayApp
{
    /// <summary>Where the standalone gateway listens unless told otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:7071";

    /// <summary>
    /// Callers' tokens, verified models, the managed identity's tokens for the inference app and its client, audit, extraction detection, canaries, the request
    /// pipelines (with containment) and jobs.
    /// </summary>
    public static void Configure(IHostApplicationBuilder app) => app.AddServerlessServe()
        .AddModelCatalog()
        .AddCallerAuthentication()
        .AddServiceTokens()
        .AddInferenceClient()
        .AddAuditLog()
        .AddExtractionDetection()
        .AddCanaries()
        .AddGatewayPipeline()
        .AddJobs();
}
