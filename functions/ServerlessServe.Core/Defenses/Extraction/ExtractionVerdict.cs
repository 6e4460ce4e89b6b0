namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// What <see cref="ExtractionDetector.Observe"/> concluded after one query (or <see cref="ExtractionDetector.ObserveScreened"/>
/// after one request's screened rows).
/// </summary>
/// <param name="Query">The query's number for this caller and model, from 1.</param>
/// <param name="Signals">The signals raised as of this query.</param>
/// <param name="RaisedEver">Every signal raised for this caller so far, this query included.</param>
/// <param name="MinDistance">
/// The query's distance to the nearest stored query of its predicted class; null when the class had none (the query
/// then starts the class's growing set) or the query is a repeat.
/// </param>
/// <param name="ClassThreshold">The class's threshold T_c after this query: a later query joins the growing set when farther than it.</param>
/// <param name="W">The latest Shapiro–Wilk W of the distance window; null while fewer than the minimum distances are held.</param>
/// <param name="Delta">δ: the distance-distribution signal is raised while W is below it.</param>
/// <param name="Distances">Distances in the window.</param>
/// <param name="VolumeCount">Queries in the volume window, this one included.</param>
/// <param name="VolumeLimit">The volume signal is raised above this count.</param>
/// <param name="Coverage">Coverage of the last complete epoch; null before the first.</param>
/// <param name="CoverageThreshold">The coverage signal is raised at or above this value.</param>
/// <param name="OutOfDistributionShare">
/// The share of the screened rows in the window that the OOD screen flagged; null while fewer than
/// <see cref="ExtractionDetectorOptions.OutOfDistributionMinRows"/> are held (always, for a model without a screen).
/// </param>
/// <param name="Screened">Screened rows in the window.</param>
/// <param name="OutOfDistributionThreshold">The out-of-distribution signal is raised at or above this share.</param>
/// <param name="Repeat">
/// The query repeats one of the caller's latest queries, or a stored one, with the same predicted class
/// (<see cref="ExtractionDetectorOptions.RepeatWindow"/>): it counted towards volume only.
/// </param>
public sealed record ExtractionVerdict(
    long Query,
    ExtractionSignals Signals,
    ExtractionSignals RaisedEver,
    double? MinDistance,
    double ClassThreshold,
    double? W,
    double Delta,
    int Distances,
    int VolumeCount,
    int VolumeLimit,
    double? Coverage,
    double CoverageThreshold,
    double? OutOfDistributionShare,
    int Screened,
    double OutOfDistributionThreshold,
    bool Repeat = false);
