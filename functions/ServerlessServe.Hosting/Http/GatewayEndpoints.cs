using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// The gateway's V2 endpoints, each a context through a pipeline and back through the <see cref="HttpEdge"/>. Model
/// routes run authenticate → honey-caller → honey-model → resolve → authorize; infer adds read → validate → screen →
/// infer → squeeze → redact → canary → encode, then audit, and releases the response only after its audit record is
/// committed.
/// </summary>
public sealed class GatewayEndpoints(
    StagePipeline<ModelRequestContext> models,
    StagePipeline<InferenceContext> inference,
    GatewayReadiness readiness,
    Microsoft.Extensions.Options.IOptions<EdgeOptions> edge,
    Core.Audit.IAuditSink audit,
    TimeProvider time)
{
    private readonly bool _hide = edge.Value.HideModelExistence;

    public static IActionResult Live() => HealthResults.Live();

    public async Task<IActionResult> ReadyAsync(CancellationToken cancellationToken)
    {
        // Anonymous, and its probe of the inference app is shared by every caller for a second: never under a caller's
        // trace context or baggage (found in review 2026-12-07).
        ServingTelemetry.DetachFromCaller();
        return HealthResults.Ready(await readiness.IsReadyAsync(cancellationToken).ConfigureAwait(false));
    }

    public static IActionResult ServerMetadata() => HealthResults.ServerMetadata();

    public async Task<IActionResult> ModelMetadataAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        ServingTelemetry.DetachFromCaller();
        var context = HttpEdge.ModelContext(request, model, version);
        await models.RunAsync(context, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return HttpEdge.Respond(context, c => V2Results.JsonBody(V2Json.WriteModelMetadata(ReleasedMetadata.For(c.Model!))), _hide);
    }

    public async Task<IActionResult> ModelReadyAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        ServingTelemetry.DetachFromCaller();
        var context = HttpEdge.ModelContext(request, model, version);
        await models.RunAsync(context, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return HttpEdge.Respond(context, _ => HealthResults.Ready(true), _hide);
    }

    public async Task<IActionResult> InferAsync(HttpRequest request, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The id carries the tag of the writer that records it, so the record's proof is found from the id alone.
        var context = HttpEdge.InferenceContext(request, model, version, "infer", time, Core.Audit.AuditRequestIds.New(audit.WriterId));
        using var activity = ServingTelemetry.StartGatewayInfer("gateway.infer");
        try
        {
            await inference.RunAsync(context, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            // The signature stage released the body already, unless the request ended before it.
            context.ReleaseBody();
            context.ReleaseTensors();
        }

        var response = HttpEdge.Respond(context, _hide);
        ServingTelemetry.Record(activity, context, ((BodyResult)response).StatusCode, time.GetElapsedTime(context.StartedTimestamp).TotalMilliseconds);
        return response;
    }
}
