using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Onnx;

/// <summary>
/// The inference app's V2 endpoints: every model route needs the gateway's service token; models come only from signed,
/// digest-verified artifacts; inputs are validated again here (defence in depth) before ONNX Runtime runs.
/// </summary>
public sealed class InferenceEndpoints(
    StagePipeline<OnnxModelContext> models,
    StagePipeline<OnnxInferenceContext> inference,
    ServingControl servingControl,
    TimeProvider time)
{
    public static IActionResult Live() => HealthResults.Live();

    /// <summary>
    /// Ready once the signed lifecycle documents and revocation list have been read (<see cref="ServingControl.IsReady"/>):
    /// before that every model request would wait for them or be refused, so the gateway (whose readiness asks this one)
    /// and the platform's probes send nothing yet.
    /// </summary>
    public IActionResult Ready() => HealthResults.Ready(servingControl.IsReady);

    public static IActionResult ServerMetadata() => HealthResults.ServerMetadata();

    public async Task<IActionResult> ModelMetadataAsync(HttpRequest request, string model, string? version)
    {
        var context = await RunModelAsync(request, model, version).ConfigureAwait(false);
        return HttpEdge.Respond(context, c => V2Results.JsonBody(V2Json.WriteModelMetadata(new ModelMetadata
        {
            Name = c.Model!.Manifest.Name,
            Versions = [c.Model.Manifest.Version],
            Platform = c.Model.Manifest.Platform,
            Inputs = c.Model.Manifest.Inputs,
            Outputs = c.Model.Manifest.Outputs,
        })));
    }

    public async Task<IActionResult> ModelReadyAsync(HttpRequest request, string model, string? version)
    {
        var context = await RunModelAsync(request, model, version).ConfigureAwait(false);
        return HttpEdge.Respond(context, _ => HealthResults.Ready(true));
    }

    public async Task<IActionResult> InferAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = HttpEdge.Prepare(new OnnxInferenceContext(RequestIds.New(), model, version, "infer"), request, time);
        using var activity = ServingTelemetry.StartInfer("inference.infer");
        try
        {
            await inference.RunAsync(context, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            context.ReleaseBody();
            context.ReleaseTensors();
            context.BodyReservation?.Dispose();
        }

        var response = HttpEdge.Respond(context);
        ServingTelemetry.Record(activity, context, ((BodyResult)response).StatusCode, time.GetElapsedTime(context.StartedTimestamp).TotalMilliseconds);
        return response;
    }

    private async Task<OnnxModelContext> RunModelAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        var context = new OnnxModelContext(RequestIds.New(), model, version) { Authorization = request.Headers.Authorization.ToString() };
        await models.RunAsync(context, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return context;
    }
}
