using System.Text.Json.Serialization;

namespace ServerlessServe.Eval.Defenses;

/// <summary>The out-of-distribution screen's evaluation (Mahalanobis distance over the digits training profile).</summary>
/// <param name="TargetHeldOutFlagged">Most held-out digits it may flag (0.01).</param>
/// <param name="TargetForeignFlagged">Fewest foreign rows it must flag (0.99).</param>
/// <param name="Percentiles">The screen at each training percentile evaluated, lowest first.</param>
/// <param name="ChosenPercentile">The percentile recommended for the policy.</param>
/// <param name="Choice">Why that one.</param>
/// <param name="Auc">Area under the ROC curve of held-out digits against all foreign rows (independent of the percentile).</param>
/// <param name="TargetsMet">The chosen percentile meets both targets.</param>
public sealed record OodReport(
    double TargetHeldOutFlagged,
    double TargetForeignFlagged,
    IReadOnlyList<OodPercentileResult> Percentiles,
    double ChosenPercentile,
    string Choice,
    double Auc,
    bool TargetsMet)
{
    /// <summary>The result at <see cref="ChosenPercentile"/> (in the JSON once, under <c>percentiles</c>).</summary>
    [JsonIgnore]
    public OodPercentileResult Chosen => Percentiles.Single(p => p.Percentile == ChosenPercentile);
}
