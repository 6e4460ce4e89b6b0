using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Options of <see cref="ExtractionDetector"/>, bound from <c>ServerlessServe:Extraction</c>. The defaults suit inputs of
/// tens to hundreds of features and keep one caller's serialised state of a 64-feature model under 64 KiB (about 55 KB;
/// see <see cref="ExtractionDetector.MaxSerializedSize"/>). <see cref="Delta"/> and <see cref="CoverageThreshold"/> are
/// starting points: calibrate them per model on benign traffic, as the PRADA paper does.
/// </summary>
public sealed class ExtractionDetectorOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "ServerlessServe:Extraction";

    /// <summary>
    /// δ: the distance-distribution signal is raised while the Shapiro–Wilk W of the recent minimum distances is below
    /// it. Default 0.90: on this project's synthetic 64-feature mixture, 200 benign callers of 2,000 queries each never
    /// went below W = 0.966, while Jacobian-style attackers (steps of 0.02 to 0.5) fell below 0.9 within 110 queries in
    /// 600 of 600 runs (W as low as 0.24); the PRADA paper chose δ per data set in the same region. Calibrate per model on
    /// benign traffic.
    /// </summary>
    [Range(0.5, 1.0)]
    public double Delta { get; set; } = 0.90;

    /// <summary>
    /// Minimum distances held before W is computed. Default 100, the paper's choice: below it W of benign traffic
    /// varies too much to compare with δ.
    /// </summary>
    [Range(20, ShapiroWilk.MaxSampleSize)]
    public int MinDistances { get; set; } = 100;

    /// <summary>
    /// The most recent minimum distances kept (a sliding window; the oldest is dropped first) and tested. Default 500:
    /// enough for a stable W, recent enough that a caller who turns to crafted queries dominates it within a few hundred
    /// queries, and 2 KB of state. At least <see cref="MinDistances"/>.
    /// </summary>
    [Range(20, ShapiroWilk.MaxSampleSize)]
    public int DistanceWindow { get; set; } = 500;

    /// <summary>
    /// W is recomputed after this many new distances (and as soon as <see cref="MinDistances"/> is reached). Default 10.
    /// The window is kept sorted as it slides, so a test is one pass over it (about 3 µs at 500 distances on the shared
    /// machine of the figures in <see cref="ExtractionDetector"/>), a fraction of a microsecond per query amortised; an
    /// alarm comes at most 9 distances late, nothing next to the thousands of queries an extraction needs. 1 tests on
    /// every distance.
    /// </summary>
    [Range(1, 10_000)]
    public int TestEvery { get; set; } = 10;

    /// <summary>
    /// Before the test, distances further than this many standard deviations from the window's mean are set aside, as in
    /// the paper (a few far-off queries should not decide the test). Default 3. Zero keeps every distance.
    /// </summary>
    [Range(0.0, 100.0)]
    public double OutlierStandardDeviations { get; set; } = 3.0;

    /// <summary>
    /// Most stored queries (the PRADA growing set) per predicted class; when full, the class's oldest is dropped for the
    /// newcomer. Default 64.
    /// </summary>
    [Range(1, 4096)]
    public int MaxGrowingSetPerClass { get; set; } = 64;

    /// <summary>
    /// Most stored queries over all classes; when full, the oldest of all is dropped for the newcomer (a class whose last
    /// query goes starts afresh, threshold included). Default 256: a query's distance is computed against at most
    /// <see cref="MaxGrowingSetPerClass"/> of them, and each costs 2 bytes per feature in the state.
    /// </summary>
    [Range(1, 4096)]
    public int MaxGrowingSet { get; set; } = 256;

    /// <summary>
    /// Inputs with more features than this are reduced to this many by signed feature hashing before anything is
    /// stored (Weinberger et al., 2009: every feature goes, with a hashed sign, to one hashed bucket; squared distances
    /// are kept in expectation), which bounds the state of image models. Default 256. Whatever the length, values are
    /// clamped to ±65,504 (the half-precision range the stored queries keep) before use.
    /// </summary>
    [Range(2, 4096)]
    public int MaxDimension { get; set; } = 256;

    /// <summary>Length of the sliding window of the volume signal. Default 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan VolumeWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The volume signal is raised when a caller sends more queries (input rows) than this within
    /// <see cref="VolumeWindow"/>. Default 1,000 (3.3 per second sustained): extraction needs thousands to tens of
    /// thousands of queries, an interactive caller far fewer. Raise it for models served to batch callers.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int VolumeLimit { get; set; } = 1000;

    /// <summary>
    /// Random hyperplanes (through the caller's running mean) that split the input space into 2^bits cells for the
    /// coverage signal. Default 10 (1,024 cells, a 128-byte bitmap): coarse enough that natural inputs, clustered around
    /// a few modes, revisit cells, fine enough that random queries rarely do. Inputs with fewer features use one bit per
    /// feature.
    /// </summary>
    [Range(1, 16)]
    public int CoverageBits { get; set; } = 10;

    /// <summary>
    /// Queries per coverage measurement: the distinct cells visited are counted over this many queries, then counting
    /// starts again. Default 256 (a quarter of the default cells, where random queries still rarely collide).
    /// </summary>
    [Range(16, 1 << 20)]
    public int CoverageEpoch { get; set; } = 256;

    /// <summary>
    /// The coverage signal is raised when distinct cells visited in the last complete epoch divided by the number
    /// expected from uniformly scattered queries reaches this value. Default 0.9: uniform random queries score 0.97 or
    /// more, the synthetic benign mixture of the tests at most 0.8 (200 callers). Natural inputs with more spread than
    /// that mixture score higher: calibrate per model.
    /// </summary>
    [Range(0.0, 2.0)]
    public double CoverageThreshold { get; set; } = 0.9;

    /// <summary>
    /// Screened rows the out-of-distribution signal looks back over: the share of the caller's latest this-many rows
    /// that the model's OOD screen flagged (<see cref="ExtractionDetector.ObserveScreened"/>; models without a screen
    /// never fill it). Default 200: long enough that a benign caller's occasional flagged row (the digits screen flags
    /// 0.1–0.6 % of held-out digits) cannot make a share near the threshold, short enough that a caller who turns to
    /// out-of-distribution queries dominates it within a few hundred rows. One bit per row in the state (25 bytes).
    /// </summary>
    [Range(10, 4096)]
    public int OutOfDistributionWindow { get; set; } = 200;

    /// <summary>
    /// Screened rows held before the out-of-distribution signal can be raised. Default 50: with fewer, a single batch of
    /// a few odd rows would decide the share; at 50 and the default threshold, 10 flagged rows are needed, which a
    /// caller whose rows the screen flags independently at 1 % reaches with a probability of about 10⁻¹⁰. At most
    /// <see cref="OutOfDistributionWindow"/>.
    /// </summary>
    [Range(1, 4096)]
    public int OutOfDistributionMinRows { get; set; } = 50;

    /// <summary>
    /// The out-of-distribution signal is raised when the share of flagged rows in the window reaches this value (once
    /// <see cref="OutOfDistributionMinRows"/> are held). Default 0.2: forty times the 0.5 % of in-distribution rows a
    /// screen at the 99.5th training percentile flags, yet far below what synthetic-query attackers send. Measured on
    /// the digits model (<c>ssctl eval defenses</c>, docs/defenses.md): the highest share of ten benign callers over
    /// 2,000 queries each was 0.015, of 40 calibration callers 0.040; Jacobian-augmentation attackers crossed 0.2 at
    /// queries 68–80 and random queries at the 50th row (all flagged). A model whose callers legitimately send many
    /// unusual inputs needs a higher value, or a screen fitted to them.
    /// </summary>
    [Range(0.01, 1.0)]
    public double OutOfDistributionThreshold { get; set; } = 0.2;

    /// <summary>
    /// Queries remembered to recognise an exact repeat: a query that, at the half precision the detector keeps, equals
    /// one of the caller's latest this-many queries with the same predicted class, or a stored query of that class. A
    /// repeat (a client's retry, a cached input sent again) counts towards the volume signal only: it adds no distance to
    /// PRADA's window, joins no growing set and leaves coverage as it was, since it tells the caller nothing new. Without
    /// this, retries give distances of 0, a spike PRADA reads as crafted queries: on the digits model, benign callers
    /// replaying held-out digits without jitter fell to W = 0.85–0.90 and eight in ten alarmed at the default δ
    /// (docs/defenses.md, "Exact repeats"). Default 500 (the distance
    /// window's length), 16 bytes per query in the state (8 KB). 0 treats a repeat as any other query.
    /// </summary>
    [Range(0, 4096)]
    public int RepeatWindow { get; set; } = 500;

    /// <summary>A copy, so that a detector is unaffected by later changes to the instance it was given.</summary>
    internal ExtractionDetectorOptions Clone() => (ExtractionDetectorOptions)MemberwiseClone();

    /// <summary>Throws when a value is out of range (the data annotations and cross-checks, for options built in code).</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (DistanceWindow < MinDistances)
        {
            yield return new ValidationResult(
                "ServerlessServe:Extraction:DistanceWindow must be at least MinDistances.", [nameof(DistanceWindow)]);
        }

        if (OutOfDistributionMinRows > OutOfDistributionWindow)
        {
            yield return new ValidationResult(
                "ServerlessServe:Extraction:OutOfDistributionMinRows must not exceed OutOfDistributionWindow.", [nameof(OutOfDistributionMinRows)]);
        }

        if (MaxGrowingSetPerClass > MaxGrowingSet)
        {
            yield return new ValidationResult(
                "ServerlessServe:Extraction:MaxGrowingSetPerClass must not exceed MaxGrowingSet.", [nameof(MaxGrowingSetPerClass)]);
        }
    }
}
