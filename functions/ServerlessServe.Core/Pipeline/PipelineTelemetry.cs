using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// A span per stage and the <c>serverlessserve.stage.duration</c> histogram (tags: stage, verdict), so the cost of each
/// security stage is visible without any switch. Never a payload, a token or a caller id.
/// </summary>
public static class PipelineTelemetry
{
    /// <summary>The activity source and meter name of ServerlessServe (the hosts export it).</summary>
    public const string SourceName = "ServerlessServe";

    public static readonly ActivitySource ActivitySource = new(SourceName);

    public static readonly Meter Meter = new(SourceName);

    private static readonly Histogram<double> StageDuration =
        Meter.CreateHistogram<double>("serverlessserve.stage.duration", unit: "ms", description: "Time spent in each pipeline stage, by stage and verdict.");

    internal static Activity? StartStage(string stage) =>
        ActivitySource.HasListeners() ? ActivitySource.StartActivity("stage " + stage, ActivityKind.Internal) : null;

    internal static void RecordStage(string stage, string verdict, double milliseconds)
    {
        if (StageDuration.Enabled)
        {
            StageDuration.Record(milliseconds, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("verdict", verdict));
        }
    }
}
