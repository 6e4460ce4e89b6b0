using System.Diagnostics;
using System.Reflection;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>Times the defenses' own work with a stopwatch, after a warm-up; medians only, figures for people to read.</summary>
internal static class CostMeasurement
{
    private const int WarmUp = 100;

    /// <summary>The screen over <paramref name="rows"/> <paramref name="passes"/> times, and <paramref name="runs"/> single-row runs of each kind.</summary>
    public static CostReport Run(DigitsSession session, MahalanobisScreen screen, IReadOnlyList<float[]> rows, SqueezeConfiguration squeezers, SqueezePolicy policy, int runs, int passes)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(screen);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(squeezers);
        ArgumentNullException.ThrowIfNull(policy);
        var sink = 0.0;
        var perRow = new double[passes];
        for (var pass = -WarmUp / 10; pass < passes; pass++)
        {
            var start = Stopwatch.GetTimestamp();
            foreach (var row in rows)
            {
                sink += screen.Distance(row);
            }

            if (pass >= 0)
            {
                perRow[pass] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / rows.Count;
            }
        }

        // One row as a request of its own: the plain run, and the squeezed request's work (batch, run, scores).
        var one = rows[0];
        var plain = new double[runs];
        var squeezed = new double[runs];
        for (var run = -WarmUp; run < runs; run++)
        {
            var start = Stopwatch.GetTimestamp();
            sink += session.Run(one, 1)[0];
            var plainTime = Stopwatch.GetElapsedTime(start).TotalMicroseconds;

            start = Stopwatch.GetTimestamp();
            var batch = FeatureSqueezing.Batch(one, DigitsData.PixelCount, policy);
            var predictions = session.Run(batch, 1 + policy.Squeezers.Count);
            sink += FeatureSqueezing.Scores(predictions, 1, DigitsData.ClassCount, policy.Squeezers.Count)[0];
            var squeezedTime = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (run >= 0)
            {
                plain[run] = plainTime;
                squeezed[run] = squeezedTime;
            }
        }

        GC.KeepAlive(sink);
        var optimized = typeof(MahalanobisScreen).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        return new CostReport(rows.Count, passes, Median(perRow), runs, squeezers.Name, Median(plain), Median(squeezed), optimized);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
