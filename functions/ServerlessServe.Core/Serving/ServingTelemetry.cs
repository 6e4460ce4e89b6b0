using System.Diagnostics;
using System.Diagnostics.Metrics;
using ServerlessServe.Core.Hosting;

namespace ServerlessServe.Core.Serving;

/// <summary>
/// Spans and metrics of the request path. Tags hold model, version, stage and status only: never payloads, tokens or
/// caller ids.
/// </summary>
internal static class ServingTelemetry
{
    private static readonly Counter<long> Requests =
        TelemetryExtensions.Meter.CreateCounter<long>("serverlessserve.requests", description: "Inference requests by model, outcome stage and status.");

    private static readonly Histogram<double> Duration =
        TelemetryExtensions.Meter.CreateHistogram<double>("serverlessserve.request.duration", unit: "ms", description: "Time from authentication to audit commit.");

    private static readonly Counter<long> Redactions =
        TelemetryExtensions.Meter.CreateCounter<long>("serverlessserve.redactions", description: "Redacted entities and hardened outputs by kind.");

    public static Activity? StartInfer(string operation) =>
        TelemetryExtensions.ActivitySource.StartActivity(operation, ActivityKind.Server);

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
