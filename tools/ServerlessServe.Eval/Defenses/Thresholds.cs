using ServerlessServe.Core.Defenses;

namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// How a score is held to a threshold, exactly as the gateway does it (<see cref="DefenseFinding.Flagged"/>: flagged
/// when the score is above the threshold or not a number), and how a threshold is chosen on clean rows.
/// </summary>
internal static class Thresholds
{
    /// <summary>Decimal places a squeeze threshold is written with in a policy.</summary>
    public const int PolicyDecimals = 4;

    /// <summary>True when the serving path flags <paramref name="score"/> against <paramref name="threshold"/>.</summary>
    public static bool Flags(double score, double threshold) => new DefenseFinding("eval", DefenseMode.Shadow, score, threshold).Flagged;

    /// <summary>Share of <paramref name="scores"/> the serving path flags.</summary>
    public static Rate Flagged(IReadOnlyCollection<double> scores, double threshold) => Rate.Of(scores, s => Flags(s, threshold));

    /// <summary>
    /// The smallest of the clean scores that flags at most ⌊<paramref name="falsePositiveRate"/>·n⌋ of them: the
    /// empirical (1 − rate) quantile taken from above, so the rate on these rows never exceeds the target (a linear
    /// quantile between neighbours can flag one row too many).
    /// </summary>
    public static double ForFalsePositiveRate(IReadOnlyCollection<double> cleanScores, double falsePositiveRate)
    {
        ArgumentNullException.ThrowIfNull(cleanScores);
        if (cleanScores.Count == 0 || cleanScores.Any(double.IsNaN))
        {
            throw new ArgumentException("Needs at least one score, none of them NaN.", nameof(cleanScores));
        }

        if (falsePositiveRate is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(falsePositiveRate), "A rate in [0, 1).");
        }

        var sorted = cleanScores.Order().ToArray();
        var allowed = (int)Math.Floor(falsePositiveRate * sorted.Length);
        return sorted[sorted.Length - 1 - allowed];
    }

    /// <summary><paramref name="threshold"/> rounded up to <paramref name="decimals"/> places (never below it, so it flags no more rows).</summary>
    public static double RoundUp(double threshold, int decimals = PolicyDecimals)
    {
        // From the step at or below (the product can land a hair above a whole step), up until it is not below.
        var scale = Math.Pow(10, decimals);
        var steps = Math.Floor(threshold * scale);
        var rounded = steps / scale;
        while (rounded < threshold)
        {
            rounded = ++steps / scale;
        }

        return rounded;
    }
}
