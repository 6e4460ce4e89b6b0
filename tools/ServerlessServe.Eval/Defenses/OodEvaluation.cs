using System.Globalization;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// The out-of-distribution screen as the gateway runs it: a profile built from the training split by
/// <see cref="InputProfileBuilder"/> (as <c>ssctl model publish --training-data</c> builds it), each row scored by
/// <see cref="MahalanobisScreen"/> and flagged above the profile's threshold.
/// </summary>
internal static class OodEvaluation
{
    /// <summary>The report, the ROC curve at the chosen percentile, and the chosen profile.</summary>
    public static (OodReport Report, RocCurve Roc, InputProfile Profile) Run(DigitsSplit split, IReadOnlyList<ForeignSet> foreign, DefenseEvaluationOptions options)
    {
        var train = split.Train.Rows();
        var test = split.Test.Rows();
        var percentiles = options.OodPercentiles.Append(options.OodPercentile).Distinct().Order().ToArray();
        var results = new List<OodPercentileResult>();
        var profiles = new Dictionary<double, InputProfile>();
        foreach (var percentile in percentiles)
        {
            var profile = InputProfileBuilder.Build(DigitsSample.InputName, train, percentile);
            var screen = new MahalanobisScreen(profile);
            Rate Flagged(IReadOnlyList<float[]> rows) => Thresholds.Flagged(rows.Select(r => screen.Distance(r)).ToArray(), profile.Threshold);
            var sets = foreign.Select(f => new ForeignSetResult(f.Name, f.Description, Flagged(f.Rows))).ToArray();
            var heldOut = Flagged(test);
            var all = Rate.Pool(sets.Select(s => s.Flagged));
            results.Add(new OodPercentileResult(
                percentile, profile.Threshold, Flagged(train), heldOut, sets, all,
                heldOut.Value <= options.OodMaxHeldOutFlagged && all.Value >= options.OodMinForeignFlagged));
            profiles[percentile] = profile;
        }

        var (chosen, choice) = Choose(results, options);
        var chosenScreen = new MahalanobisScreen(profiles[chosen.Percentile]);
        var roc = RocCurve.From(
            test.Select(r => chosenScreen.Distance(r)).ToArray(),
            foreign.SelectMany(f => f.Rows).Select(r => chosenScreen.Distance(r)).ToArray());
        var report = new OodReport(
            options.OodMaxHeldOutFlagged, options.OodMinForeignFlagged, results, chosen.Percentile, choice, roc.Auc, chosen.MeetsTargets);
        return (report, roc, profiles[chosen.Percentile]);
    }

    // The policy's percentile if its held-out false-positive rate is within the target; else the lowest higher one that
    // is (a higher percentile flags fewer rows); else the highest evaluated.
    private static (OodPercentileResult Chosen, string Choice) Choose(List<OodPercentileResult> results, DefenseEvaluationOptions options)
    {
        var asked = results.Single(r => r.Percentile == options.OodPercentile);
        var limit = options.OodMaxHeldOutFlagged;
        if (asked.HeldOutFlagged.Value <= limit)
        {
            return (asked, Invariant($"percentile {asked.Percentile}: held-out false-positive rate {asked.HeldOutFlagged.Value:P2} is within {limit:P0}"));
        }

        var higher = results.Where(r => r.Percentile > asked.Percentile).ToArray();
        if (higher.FirstOrDefault(r => r.HeldOutFlagged.Value <= limit) is { } within)
        {
            return (within, Invariant(
                $"percentile {within.Percentile}: at {asked.Percentile} the held-out false-positive rate is {asked.HeldOutFlagged.Value:P2}, above {limit:P0}; at {within.Percentile} it is {within.HeldOutFlagged.Value:P2}"));
        }

        var highest = results[^1];
        return (highest, Invariant($"percentile {highest.Percentile}: no percentile evaluated keeps held-out false positives within {limit:P0} (lowest {highest.HeldOutFlagged.Value:P2})"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
