namespace ServerlessServe.Eval.Defenses;

/// <summary>How many successful adversarial examples of one attack a squeeze configuration flags on the test split.</summary>
/// <param name="Attack">FGSM or BIM.</param>
/// <param name="Epsilon">L∞ budget on the normalised scale.</param>
/// <param name="Detected">Flagged successful examples out of all successful examples (only those count).</param>
/// <param name="Auc">Area under the ROC curve of clean test rows against these examples; null when the attack had no success.</param>
public sealed record DetectionResult(string Attack, double Epsilon, Rate Detected, double? Auc);
