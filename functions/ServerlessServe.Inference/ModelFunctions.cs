using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessServe.Onnx;

namespace ServerlessServe.Inference;

/// <summary>V2 model routes. Each is a one-line adapter over <see cref="InferenceEndpoints"/>; the gateway's service token is required.</summary>
public sealed class ModelFunctions(InferenceEndpoints inference)
{
    [Function("ModelMetadata")]
    public Task<IActionResult> Metadata(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/models/{model}")] HttpRequest request, string model) =>
        inference.ModelMetadataAsync(request, model, null);

    [Function("ModelVersionMetadata")]
    public Task<IActionResult> VersionMetadata(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/models/{model}/versions/{version}")] HttpRequest request, string model, string version) =>
        inference.ModelMetadataAsync(request, model, version);

    [Function("ModelReady")]
    public Task<IActionResult> Ready(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/models/{model}/ready")] HttpRequest request, string model) =>
        inference.ModelReadyAsync(request, model, null);

    [Function("ModelVersionReady")]
    public Task<IActionResult> VersionReady(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/models/{model}/versions/{version}/ready")] HttpRequest request, string model, string version) =>
        inference.ModelReadyAsync(request, model, version);

    [Function("Infer")]
    public Task<IActionResult> Infer(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v2/models/{model}/infer")] HttpRequest request, string model) =>
        inference.InferAsync(request, model, null);

    [Function("InferVersion")]
    public Task<IActionResult> InferVersion(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v2/models/{model}/versions/{version}/infer")] HttpRequest request, string model, string version) =>
        inference.InferAsync(request, model, version);
}
