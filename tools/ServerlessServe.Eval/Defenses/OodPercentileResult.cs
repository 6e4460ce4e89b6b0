namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// The out-of-distribution screen with its threshold at one training percentile: the share of training rows and of
/// held-out test digits it flags (the latter is its false-positive rate), and the share of each foreign set.
/// </summary>
/// <param name="Percentile">Training percentile of the Mahalanobis distances the threshold is taken at.</param>
/// <param name="Threshold">The distance at that percentile (the profile's threshold).</param>
/// <param name="TrainingFlagged">Training rows above it (about 100 − percentile per cent, by construction).</param>
/// <param name="HeldOutFlagged">Held-out test digits above it: the false-positive rate.</param>
/// <param name="Foreign">Each foreign set.</param>
/// <param name="ForeignFlagged">All foreign rows together.</param>
/// <param name="MeetsTargets">At most the target share of held-out digits flagged and at least the target share of foreign rows.</param>
public sealed record OodPercentileResult(
    double Percentile, double Threshold, Rate TrainingFlagged, Rate HeldOutFlagged, IReadOnlyList<ForeignSetResult> Foreign, Rate ForeignFlagged, bool MeetsTargets);
