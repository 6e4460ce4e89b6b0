using System.Globalization;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Eval.Extraction;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// The model-extraction detector on the digits model served by ONNX Runtime, with the detector's default options and
/// the digits policy's OOD screen reporting its flag on every query (the out-of-distribution signal):
/// synthetic-query attackers (uniform random queries; Jacobian-based augmentation from one training digit per class,
/// several seed sets), an attacker replaying training digits, benign callers replaying held-out digits, and benign
/// calibration callers on the training digits from which δ is chosen for the model. Every caller sends one query per
/// simulated second, each held to the screen, then labelled by the model (its arg-max) and observed with that class at
/// that time (<see cref="MonitoredOracle"/>).
/// Deterministic: every caller is seeded, and callers do not share state.
/// </summary>
internal static class ExtractionEvaluation
{
    /// <summary>Simulated time of every caller's first query.</summary>
    public static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Seed of the random attacker.</summary>
    public const ulong RandomSeed = 20170402;

    /// <summary>Seed of the substitute models' training (plus the round).</summary>
    public const ulong SubstituteSeed = 20190617;

    /// <summary>Seed of the natural-replay attacker.</summary>
    public const ulong NaturalSeed = 77;

    /// <summary>Seeds of benign callers: this plus the caller's number.</summary>
    public const ulong BenignSeed = 1000;

    /// <summary>Seeds of calibration callers: this plus the caller's number.</summary>
    public const ulong CalibrationSeed = 5000;

    /// <summary>The recommended δ is the largest multiple of this …</summary>
    public const double DeltaStep = 0.05;

    /// <summary>… at least this far below the lowest W of the calibration callers.</summary>
    public const double DeltaMargin = 0.02;

    /// <summary>Name of the random attacker.</summary>
    public const string Random = "random";

    /// <summary>Names of the Jacobian attackers start with this.</summary>
    public const string Jacobian = "jacobian";

    /// <summary>Name of the natural-replay attacker.</summary>
    public const string Natural = "natural replay";

    /// <summary>The report and every caller's trace (attackers, then benign callers; calibration callers are not kept).</summary>
    public static (ExtractionReport Report, IReadOnlyList<CallerTrace> Traces) Run(
        DigitsSession session, DigitsSplit split, MahalanobisScreen screen, DefenseEvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(screen);
        ArgumentNullException.ThrowIfNull(options);
        var detectorOptions = new ExtractionDetectorOptions();
        var detector = new ExtractionDetector(detectorOptions);
        var train = split.Train.Rows();
        var test = split.Test.Rows();
        var jitter = options.ExtractionJitter;

        var attackers = new List<IQueryStrategy> { new RandomQueries(RandomSeed, name: Random) };
        for (var set = 0; set < options.ExtractionJacobianSeedSets; set++)
        {
            attackers.Add(new JacobianAugmentation(
                SeedSet(split.Train, set), options.ExtractionLambda, SubstituteSeed, name: Invariant($"{Jacobian}, seed set {set + 1}")));
        }

        attackers.Add(new ReplayQueries(Natural, train, NaturalSeed, jitter, "training digits"));
        var benign = Enumerable.Range(1, options.ExtractionBenignCallers)
            .Select(i => new ReplayQueries(Invariant($"benign {i}"), test, BenignSeed + (ulong)i, jitter, "held-out test digits"))
            .ToArray();
        var calibration = Enumerable.Range(1, options.ExtractionCalibrationCallers)
            .Select(i => new ReplayQueries(Invariant($"calibration {i}"), train, CalibrationSeed + (ulong)i, jitter, "training digits"))
            .ToArray();

        var strategies = attackers.Select(a => (Strategy: a, Benign: false))
            .Concat(benign.Select(b => (Strategy: (IQueryStrategy)b, Benign: true)))
            .Concat(calibration.Select(c => (Strategy: (IQueryStrategy)c, Benign: true)))
            .ToArray();
        var interval = TimeSpan.FromSeconds(options.ExtractionSecondsPerQuery);
        var traces = new CallerTrace[strategies.Length];
        Parallel.For(0, strategies.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            traces[i] = MonitoredOracle.Run(
                strategies[i].Strategy,
                strategies[i].Benign,
                detector,
                row => session.Predict([row])[0],
                options.ExtractionQueries,
                Start,
                interval,
                row => Thresholds.Flags(screen.Distance(row), screen.Profile.Threshold));
        });

        var target = options.ExtractionTargetQueries;
        var kept = traces.Length - calibration.Length;
        var callers = traces.Take(kept).Select(t => Caller(t, detectorOptions.Delta, target)).ToArray();
        var evaluated = traces.Take(kept).ToArray();
        var calibrationResult = Calibrate(
            traces.Skip(kept).ToArray(),
            evaluated,
            Invariant($"training digits ({train.Count} rows) drawn with replacement, jitter σ = {jitter} pixel counts (seeds {CalibrationSeed + 1}..{CalibrationSeed + (ulong)calibration.Length})"),
            target);
        var deltas = new[]
        {
            AtDelta("default", detectorOptions.Delta, evaluated, target),
            AtDelta("recommended", calibrationResult.RecommendedDelta, evaluated, target),
        };
        var setup = new ExtractionSetup(
            detectorOptions.Delta,
            detectorOptions.MinDistances,
            detectorOptions.DistanceWindow,
            detectorOptions.TestEvery,
            detectorOptions.VolumeLimit,
            detectorOptions.VolumeWindow.TotalSeconds,
            detectorOptions.CoverageThreshold,
            detectorOptions.CoverageEpoch,
            detectorOptions.OutOfDistributionThreshold,
            detectorOptions.OutOfDistributionWindow,
            detectorOptions.OutOfDistributionMinRows,
            options.ExtractionSecondsPerQuery,
            options.ExtractionQueries,
            jitter,
            options.ExtractionLambda,
            target);
        return (new ExtractionReport(setup, callers, calibrationResult, deltas), evaluated);
    }

    /// <summary>Seed set <paramref name="set"/> (from 0): the set-th training digit of each class, in file order, digits 0..9.</summary>
    public static IReadOnlyList<float[]> SeedSet(DigitsSet train, int set)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentOutOfRangeException.ThrowIfNegative(set);
        return Enumerable.Range(0, DigitsData.ClassCount)
            .Select(digit => Enumerable.Range(0, train.Count).Where(i => train.Labels[i] == digit).Skip(set).First())
            .Select(train.Row)
            .ToArray();
    }

    /// <summary>
    /// The recommended δ: the largest multiple of <see cref="DeltaStep"/> at least <see cref="DeltaMargin"/> below
    /// <paramref name="lowestBenignW"/>, within the detector's range 0.5..1.
    /// </summary>
    public static double RecommendDelta(double lowestBenignW) =>
        Math.Clamp(Math.Round(Math.Floor(((lowestBenignW - DeltaMargin) / DeltaStep) + 1e-9) * DeltaStep, 2), 0.5, 1.0);

    /// <summary>Whether a caller is a synthetic-query attacker, which the detector has to flag within the target.</summary>
    public static bool IsTarget(string name) => name == Random || name.StartsWith(Jacobian, StringComparison.Ordinal);

    private static ExtractionCaller Caller(CallerTrace trace, double delta, int target)
    {
        var first = trace.FirstAlarm(delta);
        var firstFlagged = trace.OodFlagged.Select((flagged, i) => (Flagged: flagged, Query: i + 1)).FirstOrDefault(q => q.Flagged).Query;
        return new ExtractionCaller(
            trace.Name,
            trace.Benign,
            trace.Description,
            trace.Queries,
            first,
            first is { } query ? trace.SignalsAt(query, delta) : ExtractionSignals.None,
            trace.FirstRaising(ExtractionSignals.DistanceDistribution, delta),
            trace.FirstRaising(ExtractionSignals.Coverage, delta),
            trace.FirstRaising(ExtractionSignals.Volume, delta),
            trace.FirstRaising(ExtractionSignals.OutOfDistribution, delta),
            trace.MinW(),
            trace.MinW(target),
            trace.MaxCoverage,
            trace.MaxOutOfDistributionShare,
            Rate.Of(trace.OodFlagged, static f => f),
            firstFlagged == 0 ? null : firstFlagged);
    }

    private static ExtractionCalibration Calibrate(IReadOnlyList<CallerTrace> calibration, IReadOnlyList<CallerTrace> evaluated, string description, int target)
    {
        var lowest = calibration.Select(t => t.MinW() ?? 1.0).Order().ToArray();
        var benign = evaluated.Where(t => t.Benign).Select(t => t.MinW() ?? 1.0).ToArray();
        var delta = RecommendDelta(lowest[0]);
        var jacobian = evaluated.Where(t => t.Name.StartsWith(Jacobian, StringComparison.Ordinal)).Select(t => t.MinW(target) ?? 1.0).ToArray();
        var benignLowest = Math.Min(lowest[0], benign.Length == 0 ? 1.0 : benign.Min());
        return new ExtractionCalibration(
            calibration.Count,
            description,
            lowest[0],
            lowest[lowest.Length / 2],
            benign.Length == 0 ? double.NaN : benign.Min(),
            benign.Length == 0 ? double.NaN : benign.Max(),
            delta,
            Invariant($"the largest multiple of {DeltaStep} at least {DeltaMargin} below the lowest W of {calibration.Count} benign calibration callers ({lowest[0]:F4})"),
            jacobian.Length > 0 && jacobian.Max() < benignLowest,
            calibration.Max(static t => t.MaxOutOfDistributionShare));
    }

    private static ExtractionDeltaResult AtDelta(string name, double delta, IReadOnlyList<CallerTrace> traces, int target)
    {
        var outcomes = traces.Select(t =>
        {
            var first = t.FirstAlarm(delta);
            return new ExtractionOutcome(t.Name, t.Benign, first, first is { } q ? t.SignalsAt(q, delta) : ExtractionSignals.None);
        }).ToArray();
        var falseAlarms = Rate.Of(outcomes.Where(o => o.Benign).ToArray(), o => o.FirstAlarm is not null);
        var caught = Rate.Of(outcomes.Where(o => !o.Benign && IsTarget(o.Caller)).ToArray(), o => o.FirstAlarm <= target);
        return new ExtractionDeltaResult(name, delta, falseAlarms, caught, outcomes, falseAlarms.Count == 0 && caught.Count == caught.Total);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
