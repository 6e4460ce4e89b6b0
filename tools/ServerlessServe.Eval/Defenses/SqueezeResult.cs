namespace ServerlessServe.Eval.Defenses;

/// <summary>One squeeze configuration, its threshold chosen on clean training rows, evaluated on the test split.</summary>
/// <param name="Configuration">The squeezers.</param>
/// <param name="Threshold">The score above which a row is flagged, rounded up to 4 decimals.</param>
/// <param name="TrainingFalsePositives">Clean training rows flagged (at most the target rate, by construction).</param>
/// <param name="TestFalsePositives">Clean test rows flagged: the false-positive rate.</param>
/// <param name="Detections">Successful test examples flagged, per attack and budget.</param>
/// <param name="TestDetected">All successful test examples together.</param>
/// <param name="TrainingDetected">All successful training examples together (what the recommendation is chosen by).</param>
/// <param name="TestAuc">Area under the ROC curve of clean test rows against all successful test examples.</param>
/// <param name="MeetsTargets">Test detection and test false-positive rate both meet the targets.</param>
public sealed record SqueezeResult(
    SqueezeConfiguration Configuration,
    double Threshold,
    Rate TrainingFalsePositives,
    Rate TestFalsePositives,
    IReadOnlyList<DetectionResult> Detections,
    Rate TestDetected,
    Rate TrainingDetected,
    double TestAuc,
    bool MeetsTargets);
