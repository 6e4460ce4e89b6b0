namespace ServerlessServe.Eval.Defenses;

/// <summary>What <see cref="DefenseEvaluation"/> evaluates; every default is the setting.</summary>
public sealed record DefenseEvaluationOptions
{
    /// <summary>The percentile the policy asks for first. Default 99.5.</summary>
    public double OodPercentile { get; init; } = 99.5;

    /// <summary>Training percentiles the screen is evaluated at. Default 99, 99.5, 99.8, 99.9 and 100.</summary>
    public IReadOnlyList<double> OodPercentiles { get; init; } = [99, 99.5, 99.8, 99.9, 100];

    /// <summary>Most held-out digits the screen may flag. Default 0.01.</summary>
    public double OodMaxHeldOutFlagged { get; init; } = 0.01;

    /// <summary>Fewest foreign rows the screen must flag. Default 0.99.</summary>
    public double OodMinForeignFlagged { get; init; } = 0.99;

    /// <summary>L∞ budgets of the attacks on the normalised scale. Default 0.05, 0.1, 0.2, 0.3.</summary>
    public IReadOnlyList<double> Epsilons { get; init; } = [0.05, 0.1, 0.2, 0.3];

    /// <summary>Squeeze configurations evaluated. Default <see cref="SqueezeConfiguration.Defaults"/>.</summary>
    public IReadOnlyList<SqueezeConfiguration> SqueezeConfigurations { get; init; } = SqueezeConfiguration.Defaults;

    /// <summary>False-positive rate squeeze thresholds are chosen for, on clean training rows. Default 0.05.</summary>
    public double SqueezeFalsePositiveRate { get; init; } = 0.05;

    /// <summary>Fewest successful adversarial test examples squeezing must detect. Default 0.9.</summary>
    public double SqueezeMinDetection { get; init; } = 0.9;

    /// <summary>Whether to time the defenses (skipped by tests, which never assert timings). Default true.</summary>
    public bool MeasureCost { get; init; } = true;

    /// <summary>Timed ONNX Runtime runs of each kind. Default 2,000.</summary>
    public int CostRuns { get; init; } = 2000;

    /// <summary>Timed passes of the Mahalanobis screen over the test rows. Default 200.</summary>
    public int CostPasses { get; init; } = 200;
}
