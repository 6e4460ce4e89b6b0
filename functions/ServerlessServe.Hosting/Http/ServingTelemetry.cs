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

    public static Activity? StartInfer(string operation) =>
        TelemetryExtensions.ActivitySource.StartActivity(operation, ActivityKind.Server);

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
