namespace ServerlessServe.Core.Policy;

/// <summary>The defenses a model version runs on each request (<c>defenses</c> in <c>policy.json</c>); each is optional.</summary>
public sealed record DefensePolicy
{
    /// <summary>Out-of-distribution screening against the training profile the artifact carries.</summary>
    public OodPolicy? Ood { get; init; }

    /// <summary>Adversarial-example detection by feature squeezing.</summary>
    public SqueezePolicy? Squeeze { get; init; }

    /// <summary>Model-extraction detection per caller (PRADA, volume, coverage).</summary>
    public ExtractionPolicy? Extraction { get; init; }
}
