namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// A receiver operating characteristic: for every threshold, the share of negatives flagged (false-positive rate,
/// <see cref="FalsePositiveRates"/>) against the share of positives flagged (true-positive rate), from (0, 0) to
/// (1, 1), and the area under it (the probability that a random positive scores above a random negative, ties half).
/// </summary>
public sealed record RocCurve(IReadOnlyList<double> FalsePositiveRates, IReadOnlyList<double> TruePositiveRates, double Auc)
{
    /// <summary>The curve of scores where higher means more suspicious (a row is flagged above a threshold).</summary>
    public static RocCurve From(IReadOnlyCollection<double> negatives, IReadOnlyCollection<double> positives)
    {
        ArgumentNullException.ThrowIfNull(negatives);
        ArgumentNullException.ThrowIfNull(positives);
        if (negatives.Count == 0 || positives.Count == 0)
        {
            throw new ArgumentException("Needs negatives and positives.", nameof(negatives));
        }

        // Scores from high to low; a NaN is flagged by every threshold, so it sorts above everything.
        var all = negatives.Select(s => (Score: Key(s), Positive: false)).Concat(positives.Select(s => (Score: Key(s), Positive: true)))
            .OrderByDescending(p => p.Score).ToArray();
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        var (falsePositives, truePositives, auc) = (0, 0, 0.0);
        for (var i = 0; i < all.Length;)
        {
            // Every row of one score value is flagged by the same thresholds: one step per distinct value.
            var score = all[i].Score;
            var (stepFalse, stepTrue) = (0, 0);
            for (; i < all.Length && all[i].Score == score; i++)
            {
                if (all[i].Positive)
                {
                    stepTrue++;
                }
                else
                {
                    stepFalse++;
                }
            }

            auc += stepFalse * (truePositives + (stepTrue / 2.0));
            falsePositives += stepFalse;
            truePositives += stepTrue;
            fpr.Add(falsePositives / (double)negatives.Count);
            tpr.Add(truePositives / (double)positives.Count);
        }

        return new RocCurve(fpr, tpr, auc / ((double)negatives.Count * positives.Count));
    }

    private static double Key(double score) => double.IsNaN(score) ? double.PositiveInfinity : score;
}
