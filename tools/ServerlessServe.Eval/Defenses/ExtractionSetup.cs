namespace ServerlessServe.Eval.Defenses;

/// <summary>How the extraction evaluation was run: the detector's options and the callers' settings.</summary>
/// <param name="Delta">δ of the detector's default options (the signals of <see cref="ExtractionReport.Callers"/>).</param>
/// <param name="MinDistances">Distances held before W is computed.</param>
/// <param name="DistanceWindow">Distances W is computed over.</param>
/// <param name="TestEvery">Distances between tests.</param>
/// <param name="VolumeLimit">Queries per volume window above which the volume signal is raised.</param>
/// <param name="VolumeWindowSeconds">The volume window, seconds.</param>
/// <param name="CoverageThreshold">Coverage at or above which the coverage signal is raised.</param>
/// <param name="CoverageEpoch">Queries per coverage measurement.</param>
/// <param name="OutOfDistributionThreshold">Share of flagged rows at or above which the out-of-distribution signal is raised.</param>
/// <param name="OutOfDistributionWindow">Latest screened rows the share is taken over.</param>
/// <param name="OutOfDistributionMinRows">Screened rows held before the share counts.</param>
/// <param name="SecondsPerQuery">Simulated seconds between two queries of a caller.</param>
/// <param name="QueriesPerCaller">Queries every caller sends.</param>
/// <param name="BenignJitter">Standard deviation of the per-pixel jitter of replayed digits, pixel counts.</param>
/// <param name="Lambda">λ of the Jacobian augmentation on the normalised scale.</param>
/// <param name="TargetQueries">An attacker should be flagged within this many queries.</param>
public sealed record ExtractionSetup(
    double Delta,
    int MinDistances,
    int DistanceWindow,
    int TestEvery,
    int VolumeLimit,
    double VolumeWindowSeconds,
    double CoverageThreshold,
    int CoverageEpoch,
    double OutOfDistributionThreshold,
    int OutOfDistributionWindow,
    int OutOfDistributionMinRows,
    double SecondsPerQuery,
    int QueriesPerCaller,
    double BenignJitter,
    double Lambda,
    int TargetQueries);
