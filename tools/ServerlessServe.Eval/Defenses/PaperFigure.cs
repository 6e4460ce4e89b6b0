namespace ServerlessServe.Eval.Defenses;

/// <summary>A published figure to compare with.</summary>
/// <param name="Source">Who and where.</param>
/// <param name="Setting">Data set, model and squeezers.</param>
/// <param name="Detection">Share of successful adversarial examples detected.</param>
/// <param name="FalsePositiveRate">Share of legitimate inputs flagged.</param>
public sealed record PaperFigure(string Source, string Setting, double Detection, double FalsePositiveRate)
{
    /// <summary>
    /// Xu, Evans, Qi, "Feature Squeezing: Detecting Adversarial Examples in Deep Neural Networks", NDSS 2018: on MNIST
    /// the joint detector (bit depth 1, median 2×2) detects 98.2 % of successful adversarial examples at a 3.98 %
    /// false-positive rate on legitimate examples.
    /// </summary>
    public static PaperFigure XuEvansQiMnist { get; } = new(
        "Xu, Evans, Qi, NDSS 2018", "MNIST, 7-layer CNN, joint: bit depth 1 + median 2×2", 0.982, 0.0398);
}
