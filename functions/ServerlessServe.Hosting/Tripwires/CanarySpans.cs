using System.Diagnostics;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Tripwires;

/// <summary>
/// Looks for canary values in the ServerlessServe spans an exporter records (name, status, tags, events, baggage) as
/// each one stops. It never asks for a span itself (its sampler says no), so it costs nothing when no exporter is on.
/// </summary>
internal static class CanarySpans
{
    public static IDisposable Listen(CanaryAlarmQueue queue, CanaryTokens tokens)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PipelineTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            SampleUsingParentId = (ref ActivityCreationOptions<string> _) => ActivitySamplingResult.None,
            ActivityStopped = activity => Inspect(activity, queue, tokens),
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    internal static void Inspect(Activity activity, CanaryAlarmQueue queue, CanaryTokens tokens)
    {
        HashSet<string>? ids = null;
        Hits.Find(tokens, activity.DisplayName, ref ids);
        Hits.Find(tokens, activity.StatusDescription, ref ids);
        foreach (var tag in activity.TagObjects)
        {
            if (tag.Value is string value)
            {
                Hits.Find(tokens, value, ref ids);
            }
        }

        foreach (var item in activity.Events)
        {
            Hits.Find(tokens, item.Name, ref ids);
            foreach (var tag in item.Tags)
            {
                if (tag.Value is string value)
                {
                    Hits.Find(tokens, value, ref ids);
                }
            }
        }

        foreach (var (_, value) in activity.Baggage)
        {
            Hits.Find(tokens, value, ref ids);
        }

        if (ids is not null)
        {
            queue.Enqueue(SecurityEventKinds.CanaryTelemetry, new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["canaries"] = CanaryTokens.Join(ids),
                ["source"] = "span",
                ["name"] = activity.OperationName,
            });
        }
    }
}
