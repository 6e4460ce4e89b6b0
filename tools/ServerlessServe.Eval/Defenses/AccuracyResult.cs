namespace ServerlessServe.Eval.Defenses;

/// <summary>Clean test accuracy with some defenses in enforce mode: a refused row counts as not correct.</summary>
/// <param name="Defenses">Which defenses enforce (<c>none</c> for the model alone).</param>
/// <param name="Accuracy">Test rows predicted right and not refused.</param>
/// <param name="FalsePositives">Clean test rows refused.</param>
public sealed record AccuracyResult(string Defenses, Rate Accuracy, Rate FalsePositives);
