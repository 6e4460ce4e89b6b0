using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Eval.Defenses;

/// <summary>One caller of the extraction evaluation as the detector saw it with the default options (the OOD screen reporting).</summary>
/// <param name="Name">Its name.</param>
/// <param name="Benign">Whether it is benign (any alarm is then a false alarm).</param>
/// <param name="Description">What it sent.</param>
/// <param name="Queries">Queries it sent.</param>
/// <param name="FirstAlarm">The first query that raised any signal; null when none did.</param>
/// <param name="FirstSignals">The signals raised at that query (<c>none</c> when it never alarmed).</param>
/// <param name="FirstDistanceDistribution">The first query at which PRADA's W was below δ; null when never.</param>
/// <param name="FirstCoverage">The first query that raised the coverage signal; null when none did.</param>
/// <param name="FirstVolume">The first query that raised the volume signal; null when none did.</param>
/// <param name="FirstOutOfDistribution">
/// The first query that raised the out-of-distribution signal (the share of the latest screened rows the OOD screen
/// flagged at or above the threshold); null when none did.
/// </param>
/// <param name="MinW">The lowest W over the whole run; null when W was never computed.</param>
/// <param name="MinWWithinTarget">The lowest W over the first <see cref="ExtractionSetup.TargetQueries"/> queries.</param>
/// <param name="MaxCoverage">The highest coverage of a complete epoch.</param>
/// <param name="MaxOutOfDistributionShare">The highest share of flagged rows in the out-of-distribution window.</param>
/// <param name="OodFlagged">Its queries the OOD screen (the recommended profile) flags: what an enforcing screen would refuse before the model answers.</param>
/// <param name="FirstOodFlagged">The first query the OOD screen flags; null when none.</param>
public sealed record ExtractionCaller(
    string Name,
    bool Benign,
    string Description,
    int Queries,
    int? FirstAlarm,
    ExtractionSignals FirstSignals,
    int? FirstDistanceDistribution,
    int? FirstCoverage,
    int? FirstVolume,
    int? FirstOutOfDistribution,
    double? MinW,
    double? MinWWithinTarget,
    double? MaxCoverage,
    double? MaxOutOfDistributionShare,
    Rate OodFlagged,
    int? FirstOodFlagged);
