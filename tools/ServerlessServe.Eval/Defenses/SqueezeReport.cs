using System.Text.Json.Serialization;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Eval.Defenses;

/// <summary>The feature-squeezing evaluation: the attacks, every configuration, and the recommended policy block.</summary>
/// <param name="TargetFalsePositiveRate">The rate thresholds are chosen for on clean training rows (0.05).</param>
/// <param name="TargetDetection">Fewest successful test examples to detect (0.9).</param>
/// <param name="Reference">The published figure compared with.</param>
/// <param name="Attacks">Every attack and budget on both splits.</param>
/// <param name="Configurations">Every configuration evaluated.</param>
/// <param name="Recommended">The joint configuration that detects most successful training examples.</param>
/// <param name="RecommendedPolicy">Its <c>defenses.squeeze</c> block for the digits policy (shadow mode).</param>
/// <param name="TargetsMet">The recommended configuration meets both targets on the test split.</param>
public sealed record SqueezeReport(
    double TargetFalsePositiveRate,
    double TargetDetection,
    PaperFigure Reference,
    IReadOnlyList<AttackSummary> Attacks,
    IReadOnlyList<SqueezeResult> Configurations,
    string Recommended,
    SqueezePolicy RecommendedPolicy,
    bool TargetsMet)
{
    /// <summary>The result of <see cref="Recommended"/> (in the JSON once, under <c>configurations</c>).</summary>
    [JsonIgnore]
    public SqueezeResult RecommendedResult => Configurations.Single(c => c.Configuration.Name == Recommended);

    /// <summary>The recommended block as policy JSON (<c>defenses.squeeze</c>).</summary>
    public string PolicyJson() => ReportJson.Serialize(RecommendedPolicy);
}
