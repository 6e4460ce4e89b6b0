using System.Diagnostics;
using System.Diagnostics.Metrics;
using ServerlessServe.Core.Serving;
using ServerlessServe.Hosting.Telemetry;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// Spans and metrics of the request path, in the gateway and the inference app alike. Tags hold model, version, stage
/// and status only: never payloads, tokens or caller ids.
/// </summary>
public static class ServingTelemetry
{
    private static readonly Counter<long> Requests =
        TelemetryExtensions.Meter.CreateCounter<long>("serverlessserve.requests", description: "Inference requests by model, outcome stage and status.");

    private static readonly Histogram<double> Duration =
        TelemetryExtensions.Meter.CreateHistogram<double>("serverlessserve.request.duration", unit: "ms", description: "Time from the request's start to its response ready (on the gateway, after the audit commit).");

    private static readonly Counter<long> Redactions =
        TelemetryExtensions.Meter.CreateCounter<long>("serverlessserve.redactions", description: "Redacted entities and hardened outputs by kind.");

    /// <summary>
    /// The inference app's span of one request: a child of the gateway's, whose <c>traceparent</c> it receives (only the
    /// gateway's identity reaches it).
    /// </summary>
    public static Activity? StartInfer(string operation) =>
        TelemetryExtensions.ActivitySource.StartActivity(operation, ActivityKind.Server);

    /// <summary>
    /// The gateway's span of one request: always a new trace the gateway owns, never a child of the caller's
    /// <c>traceparent</c>. A caller's trace context would otherwise pick the gateway's trace id (piling requests into
    /// one trace, or into one it has seen elsewhere), switch its recording off with the not-sampled flag (the default
    /// sampler follows a parent's decision), and hand its <c>tracestate</c> and baggage on to the gateway's spans and its
    /// call to the inference app. The caller's context is kept as a link, so a caller's own trace still finds it.
    /// </summary>
    public static Activity? StartGatewayInfer(string operation)
    {
        var incoming = Activity.Current;
        Activity.Current = null;
        ActivityLink[]? links = incoming is { } parent && parent.Context != default ? [new ActivityLink(parent.Context)] : null;
        // Not put back when nothing records the span: the caller's activity as the current one would still parent the
        // stage spans, and the call to the inference app would carry its tracestate and baggage there (review,
        // 2026-12-07). Activity.Current is async-local, so the request's own handler sees this and its caller does not.
        return TelemetryExtensions.ActivitySource.StartActivity(operation, ActivityKind.Server, default(ActivityContext), tags: null, links: links);
    }

    /// <summary>
    /// Detaches the rest of a request from the caller's trace context (call it first in an async handler: the change
    /// is async-local, so it holds for that handler's own work only). The caller's <c>traceparent</c>, <c>tracestate</c>
    /// and baggage would otherwise pick the trace id of the gateway's stage spans, turn their recording off, and travel
    /// on in its outbound calls. The metadata, readiness and jobs routes, which open no span of their own.
    /// </summary>
    public static void DetachFromCaller() => Activity.Current = null;

    /// <summary>Records a finished inference: where it ended (<c>released</c> or the refusing stage) and the status sent.</summary>
    public static void Record(Activity? activity, InferenceContext context, int status, double milliseconds)
    {
        ArgumentNullException.ThrowIfNull(context);
        Record(activity, context.Model?.Manifest.Name, context.Model?.Manifest.Version, context.RefusedAt ?? "released", status, milliseconds, context.Redactions);
    }

    public static void Record(Activity? activity, string? model, string? version, string stage, int status, double milliseconds, IReadOnlyDictionary<string, int> redactions)
    {
        var tags = new TagList
        {
            { "model", model ?? "(unresolved)" },
            { "stage", stage },
            { "status", status },
        };
        Requests.Add(1, tags);
        Duration.Record(milliseconds, tags);
        foreach (var (kind, count) in redactions)
        {
            Redactions.Add(count, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("model", model));
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag("serverlessserve.model", model);
        activity.SetTag("serverlessserve.model_version", version);
        activity.SetTag("serverlessserve.stage", stage);
        activity.SetTag("http.response.status_code", status);
        if (status >= 400)
        {
            activity.SetStatus(status >= 500 ? ActivityStatusCode.Error : ActivityStatusCode.Unset);
        }
    }
}
