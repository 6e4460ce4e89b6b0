namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>The outcome of a Shapiro–Wilk test.</summary>
/// <param name="W">The statistic, in (0, 1]; 1 for a sample in perfect agreement with normal order statistics.</param>
/// <param name="PValue">Royston's approximate p-value: the probability of a W this small or smaller under normality.</param>
internal readonly record struct ShapiroWilkResult(double W, double PValue);
