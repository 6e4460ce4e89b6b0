using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Jobs;

namespace ServerlessServe.Gateway;

/// <summary>
/// V2 model routes. Each is a one-line adapter over <see cref="GatewayEndpoints"/> (infer: over <see cref="JobEndpoints"/>,
/// which runs an <c>execution: orchestrated</c> model through the jobs orchestration); a caller token is required.
/// </summary>
public sealed class ModelFunctions(GatewayEndpoints gateway, JobEndpoints jobs)
{
    [Function("ModelMetadata")]
    public Task<IActionResult> Metadata(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/models/{model}")] HttpRequest request, string model) =>
        gateway.ModelMetadataAsync(request, model, null);

    [Function("ModelVersionMetadata")]
    public Task<IActionResult> VersionMetadata(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/models/{model}/versions/{version}")] HttpRequest request, string model, string version) =>
        gateway.ModelMetadataAsync(request, model, version);

    [Function("ModelReady")]
    public Task<IActionResult> Ready(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/models/{model}/ready")] HttpRequest request, string model) =>
        gateway.ModelReadyAsync(request, model, null);

    [Function("ModelVersionReady")]
    public Task<IActionResult> VersionReady(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/models/{model}/versions/{version}/ready")] HttpRequest request, string model, string version) =>
        gateway.ModelReadyAsync(request, model, version);

    [Function("Infer")]
    public Task<IActionResult> Infer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v2/models/{model}/infer")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string model) =>
        jobs.InferAsync(request, client, model, null);

    [Function("InferVersion")]
    public Task<IActionResult> InferVersion(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v2/models/{model}/versions/{version}/infer")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string model,
        string version) =>
        jobs.InferAsync(request, client, model, version);
}
