using ServerlessServe.Eval.Extraction;

namespace ServerlessServe.Eval.Defenses;

/// <summary>The ROC curves the plots draw (not part of the JSON report, which keeps their areas).</summary>
/// <param name="Ood">Held-out digits against all foreign rows, by Mahalanobis distance.</param>
/// <param name="Squeeze">Clean test rows against the successful test examples of each attack and budget, by the recommended configuration's score, named like <c>BIM ε=0.1</c>.</param>
public sealed record DefenseCurves(RocCurve Ood, IReadOnlyList<KeyValuePair<string, RocCurve>> Squeeze)
{
    /// <summary>The extraction evaluation's callers, query by query (attackers, then benign callers); empty when not evaluated.</summary>
    public IReadOnlyList<CallerTrace> Extraction { get; init; } = [];
}
