namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>The extraction signals an <see cref="ExtractionDetector"/> can raise for one caller of one model.</summary>
[Flags]
public enum ExtractionSignals
{
    /// <summary>No signal.</summary>
    None = 0,

    /// <summary>
    /// PRADA: the caller's recent minimum distances between same-class queries are far from normally distributed
    /// (Shapiro–Wilk W below <see cref="ExtractionDetectorOptions.Delta"/>), as with synthetic queries crafted around a
    /// few seeds.
    /// </summary>
    DistanceDistribution = 1,

    /// <summary>More queries within <see cref="ExtractionDetectorOptions.VolumeWindow"/> than <see cref="ExtractionDetectorOptions.VolumeLimit"/>.</summary>
    Volume = 2,

    /// <summary>
    /// The caller's queries spread over the input space like random ones (coverage at or above
    /// <see cref="ExtractionDetectorOptions.CoverageThreshold"/>), unlike natural inputs, which revisit a few regions.
    /// </summary>
    Coverage = 4,

    /// <summary>
    /// The model's out-of-distribution screen flagged a large share of the caller's latest rows (at least
    /// <see cref="ExtractionDetectorOptions.OutOfDistributionThreshold"/> of the last
    /// <see cref="ExtractionDetectorOptions.OutOfDistributionWindow"/>), as with synthetic queries, which leave the
    /// training distribution, unlike a benign caller's inputs, of which the screen flags a few. Refused rows count:
    /// that is what an attacker who keeps probing an enforcing screen sends.
    /// </summary>
    OutOfDistribution = 8,
}
