using System.Globalization;
using System.Security.Cryptography;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// The evaluation behind <c>ssctl eval defenses</c>: the out-of-distribution screen and feature squeezing on the real
/// digits model in ONNX Runtime, through the same Core code the serving path runs. Profiles and thresholds are fitted
/// on the training split only; every reported rate is on the held-out test split unless named training. Then the
/// model-extraction detector against extraction attackers and benign callers (<see cref="ExtractionEvaluation"/>) and
/// membership inference on each released form of the scores (<see cref="MembershipEvaluation"/>). Deterministic apart
/// from the timings (no randomness but the seeded noise).
/// </summary>
public static class DefenseEvaluation
{
    /// <summary>Runs the whole evaluation (a few seconds in a Release build on two cores, most of it the attacks).</summary>
    /// <param name="options">What to evaluate; the settings when null.</param>
    public static DefenseEvaluationResult Run(DefenseEvaluationOptions? options = null)
    {
        options ??= new DefenseEvaluationOptions();
        var split = DigitsData.Load();
        using var session = new DigitsSession();
        var foreign = ForeignSets.Build(split.Test);
        var (ood, oodRoc, profile) = OodEvaluation.Run(split, foreign, options);
        var (squeeze, squeezeCurves, testAttacks) = SqueezeEvaluation.Run(session, split, options);
        var screen = new MahalanobisScreen(profile);
        var layered = Layered(session, testAttacks, screen, squeeze.RecommendedPolicy);
        var accuracy = Accuracy(session, split.Test, screen, squeeze.RecommendedPolicy, squeeze.Recommended);
        var cost = options.MeasureCost
            ? CostMeasurement.Run(session, screen, split.Test.Rows(), squeeze.RecommendedResult.Configuration, squeeze.RecommendedPolicy, options.CostRuns, options.CostPasses)
            : null;
        var (extraction, traces) = options.EvaluateExtraction ? ExtractionEvaluation.Run(session, split, screen, options) : (null, []);
        var membership = options.EvaluateMembership ? MembershipEvaluation.Run(session, split) : null;
        var report = new DefenseReport(
            DigitsSample.Name, Convert.ToHexStringLower(SHA256.HashData(session.Model)), split.Train.Count, split.Test.Count, ood, squeeze, accuracy, cost)
        {
            Layered = layered,
            Extraction = extraction,
            Membership = membership,
        };
        return new DefenseEvaluationResult(report, new DefenseCurves(oodRoc, squeezeCurves) { Extraction = traces });
    }

    /// <summary>
    /// What the served stack catches of each attack: a successful adversarial example is stopped when the OOD screen
    /// (before inference) or squeezing (after) flags it, as the gateway runs them one after the other.
    /// </summary>
    private static IReadOnlyList<LayeredDetection> Layered(DigitsSession session, IReadOnlyList<AdversarialSet> attacks, MahalanobisScreen screen, SqueezePolicy squeeze) =>
        attacks.Select(a =>
        {
            var rows = a.Successful;
            var ood = rows.Select(r => Thresholds.Flags(screen.Distance(r), screen.Profile.Threshold)).ToArray();
            var squeezed = session.SqueezeScores(rows, squeeze).Select(s => Thresholds.Flags(s, squeeze.Threshold)).ToArray();
            return new LayeredDetection(
                a.Attack,
                a.Epsilon,
                new Rate(ood.Count(f => f), rows.Count),
                new Rate(squeezed.Count(f => f), rows.Count),
                new Rate(Enumerable.Range(0, rows.Count).Count(i => ood[i] || squeezed[i]), rows.Count));
        }).ToArray();

    /// <summary>Clean test accuracy with no defense, each defense enforcing, and both (a refused row is not correct).</summary>
    private static IReadOnlyList<AccuracyResult> Accuracy(DigitsSession session, DigitsSet test, MahalanobisScreen screen, SqueezePolicy squeeze, string squeezers)
    {
        var rows = test.Rows();
        var predictions = session.Predict(rows);
        var correct = rows.Select((_, i) => predictions[i] == test.Labels[i]).ToArray();
        var oodFlagged = rows.Select(r => Thresholds.Flags(screen.Distance(r), screen.Profile.Threshold)).ToArray();
        var scores = session.SqueezeScores(rows, squeeze);
        var squeezeFlagged = scores.Select(s => Thresholds.Flags(s, squeeze.Threshold)).ToArray();
        AccuracyResult Result(string name, Func<int, bool> refused) => new(
            name,
            new Rate(Enumerable.Range(0, rows.Count).Count(i => correct[i] && !refused(i)), rows.Count),
            new Rate(Enumerable.Range(0, rows.Count).Count(refused), rows.Count));
        var ood = string.Create(CultureInfo.InvariantCulture, $"ood (percentile {screen.Profile.Percentile})");
        var squeezing = $"squeeze ({squeezers})";
        return
        [
            Result("none", _ => false),
            Result(ood, i => oodFlagged[i]),
            Result(squeezing, i => squeezeFlagged[i]),
            Result($"{ood} + {squeezing}", i => oodFlagged[i] || squeezeFlagged[i]),
        ];
    }
}
