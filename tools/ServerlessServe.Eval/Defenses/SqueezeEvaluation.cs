using ServerlessServe.Eval.Attacks;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// Feature squeezing as the inference app and gateway run it (<see cref="DigitsSession.SqueezeScores"/>, then the
/// gateway's comparison): each configuration's threshold is chosen on the clean training split for the target
/// false-positive rate; detection counts only successful adversarial examples (clean prediction right, adversarial
/// wrong, both judged by ONNX Runtime). The recommendation is the joint configuration that detects the most successful
/// examples crafted from the training split, so nothing about the test split shapes it.
/// </summary>
internal static class SqueezeEvaluation
{
    /// <summary>Names of the attacks in reports.</summary>
    public const string Fgsm = "FGSM";

    public const string Bim = "BIM";

    /// <summary>Every configuration evaluated, the recommendation, and its ROC curve per attack and budget.</summary>
    public static (SqueezeReport Report, IReadOnlyList<KeyValuePair<string, RocCurve>> Curves, IReadOnlyList<AdversarialSet> TestAttacks) Run(
        DigitsSession session, DigitsSplit split, DefenseEvaluationOptions options)
    {
        var trainAttacks = Attack(session, split.Train, "train", options.Epsilons);
        var testAttacks = Attack(session, split.Test, "test", options.Epsilons);
        var train = split.Train.Rows();
        var test = split.Test.Rows();
        var results = new List<SqueezeResult>();
        var testScores = new Dictionary<SqueezeConfiguration, (double[] Clean, double[][] Attacked)>();
        foreach (var configuration in options.SqueezeConfigurations)
        {
            var scoring = configuration.ToPolicy(threshold: 0);
            var trainClean = session.SqueezeScores(train, scoring);
            var threshold = Thresholds.RoundUp(Thresholds.ForFalsePositiveRate(trainClean, options.SqueezeFalsePositiveRate));
            var clean = session.SqueezeScores(test, scoring);
            var attacked = testAttacks.Select(a => session.SqueezeScores(a.Successful, scoring)).ToArray();
            var detections = testAttacks.Select((a, i) => new DetectionResult(
                a.Attack, a.Epsilon, Thresholds.Flagged(attacked[i], threshold), attacked[i].Length == 0 ? null : RocCurve.From(clean, attacked[i]).Auc)).ToArray();
            var testDetected = Rate.Pool(detections.Select(d => d.Detected));
            var trainDetected = Rate.Pool(trainAttacks.Select(a => Thresholds.Flagged(session.SqueezeScores(a.Successful, scoring), threshold)));
            var falsePositives = Thresholds.Flagged(clean, threshold);
            var allAttacked = attacked.SelectMany(s => s).ToArray();
            results.Add(new SqueezeResult(
                configuration,
                threshold,
                Thresholds.Flagged(trainClean, threshold),
                falsePositives,
                detections,
                testDetected,
                trainDetected,
                allAttacked.Length == 0 ? double.NaN : RocCurve.From(clean, allAttacked).Auc,
                testDetected.Value >= options.SqueezeMinDetection && falsePositives.Value <= options.SqueezeFalsePositiveRate));
            testScores[configuration] = (clean, attacked);
        }

        var recommended = results.Where(r => r.Configuration.Joint).MaxBy(r => r.TrainingDetected.Value)
            ?? throw new InvalidOperationException("No joint configuration was evaluated.");
        var (recommendedClean, recommendedAttacked) = testScores[recommended.Configuration];
        var curves = testAttacks.Select((a, i) => (a, i)).Where(p => recommendedAttacked[p.i].Length > 0)
            .Select(p => KeyValuePair.Create(p.a.Name, RocCurve.From(recommendedClean, recommendedAttacked[p.i]))).ToArray();
        var report = new SqueezeReport(
            options.SqueezeFalsePositiveRate,
            options.SqueezeMinDetection,
            PaperFigure.XuEvansQiMnist,
            trainAttacks.Concat(testAttacks).Select(a => a.Summary()).ToArray(),
            results,
            recommended.Configuration.Name,
            recommended.Configuration.ToPolicy(recommended.Threshold),
            recommended.MeetsTargets);
        return (report, curves, testAttacks);
    }

    /// <summary>FGSM and BIM (20 steps) at each budget over every row of a split, judged by ONNX Runtime.</summary>
    public static IReadOnlyList<AdversarialSet> Attack(DigitsSession session, DigitsSet rows, string split, IReadOnlyList<double> epsilons)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(rows);
        LossGradient gradient = DigitsSample.Weights.InputGradient;
        var inputs = rows.Rows();
        var sets = new List<AdversarialSet>();
        foreach (var (name, attack) in epsilons.Select(e => (Fgsm, (IAttack)new Fgsm(gradient, e))).Concat(epsilons.Select(e => (Bim, (IAttack)new Bim(gradient, e)))))
        {
            sets.Add(new AdversarialSet(name, attack.Epsilon, split, AttackRunner.Run(attack, session.Predict, inputs, rows.Labels)));
        }

        return sets;
    }
}
