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

    /// <summary>Whether to evaluate the model-extraction detector. Default true.</summary>
    public bool EvaluateExtraction { get; init; } = true;

    /// <summary>Whether to evaluate membership inference. Default true.</summary>
    public bool EvaluateMembership { get; init; } = true;

    /// <summary>Queries every extraction caller sends. Default 2,000.</summary>
    public int ExtractionQueries { get; init; } = 2000;

    /// <summary>Benign callers replaying held-out digits. Default 10.</summary>
    public int ExtractionBenignCallers { get; init; } = 10;

    /// <summary>Benign calibration callers replaying training digits, from which δ is chosen. Default 40.</summary>
    public int ExtractionCalibrationCallers { get; init; } = 40;

    /// <summary>Jacobian attackers, each from its own seed set of one training digit per class. Default 5.</summary>
    public int ExtractionJacobianSeedSets { get; init; } = 5;

    /// <summary>λ of the Jacobian augmentation on the normalised scale. Default 0.1 (1.6 pixel counts).</summary>
    public double ExtractionLambda { get; init; } = 0.1;

    /// <summary>Standard deviation of the jitter on replayed digits, pixel counts. Default 0.5.</summary>
    public double ExtractionJitter { get; init; } = 0.5;

    /// <summary>
    /// Simulated seconds between a caller's queries. Default 1: 300 queries per 5-minute window, below the volume limit
    /// of 1,000, so the volume signal stays quiet and the result shows what PRADA and coverage catch.
    /// </summary>
    public double ExtractionSecondsPerQuery { get; init; } = 1.0;

    /// <summary>An attacker should be flagged within this many queries. Default 500.</summary>
    public int ExtractionTargetQueries { get; init; } = 500;
}
