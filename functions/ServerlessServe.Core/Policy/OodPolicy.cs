using ServerlessServe.Core.Defenses;

namespace ServerlessServe.Core.Policy;

/// <summary>
/// Out-of-distribution screening of one numeric input: each row's Mahalanobis distance from the training set (mean and
/// covariance in the artifact's <c>profile.json</c>) against the distance at <see cref="Percentile"/> of the training
/// rows' own distances. The profile is computed when the version is published (<c>ssctl model publish
/// --training-data</c>) and signed with it.
/// </summary>
public sealed record OodPolicy
{
    public DefenseMode Mode { get; init; } = DefenseMode.Shadow;

    /// <summary>The input screened: FP32 or FP64, shape [batch, features].</summary>
    public required string Input { get; init; }

    /// <summary>The training-set percentile of distances that becomes the threshold. Default 99.5.</summary>
    public double Percentile { get; init; } = 99.5;
}
