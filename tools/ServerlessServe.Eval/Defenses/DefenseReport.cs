namespace ServerlessServe.Eval.Defenses;

/// <summary>Everything <c>ssctl eval defenses</c> measures on the digits model (written as <c>defenses.json</c>).</summary>
/// <param name="Model">The model evaluated.</param>
/// <param name="ModelSha256">SHA-256 of its ONNX bytes.</param>
/// <param name="TrainingRows">Rows of the training split (profiles and thresholds come from these only).</param>
/// <param name="TestRows">Rows of the held-out test split (every reported rate is on these unless named training).</param>
/// <param name="Ood">The out-of-distribution screen.</param>
/// <param name="Squeeze">Feature squeezing.</param>
/// <param name="Accuracy">Clean test accuracy without and with the defenses enforcing.</param>
/// <param name="Cost">Measured cost; null when not measured.</param>
public sealed record DefenseReport(
    string Model,
    string ModelSha256,
    int TrainingRows,
    int TestRows,
    OodReport Ood,
    SqueezeReport Squeeze,
    IReadOnlyList<AccuracyResult> Accuracy,
    CostReport? Cost)
{
    /// <summary>Successful adversarial examples stopped by the OOD screen, squeezing, and either, per attack.</summary>
    public IReadOnlyList<LayeredDetection> Layered { get; init; } = [];

    /// <summary>The model-extraction detector against extraction attackers and benign callers; null when not evaluated.</summary>
    public ExtractionReport? Extraction { get; init; }

    /// <summary>Membership inference on each released form of the scores; null when not evaluated.</summary>
    public MembershipReport? Membership { get; init; }

    /// <summary>The report as indented JSON (camelCase, enums by their policy names).</summary>
    public string ToJson() => ReportJson.Serialize(this);
}
