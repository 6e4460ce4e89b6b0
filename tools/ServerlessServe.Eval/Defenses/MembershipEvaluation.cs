using System.Globalization;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Eval.Membership;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// Membership inference against the digits model in ONNX Runtime: every held-out test row against as many training
/// rows, evenly spaced through the training split; the model's probabilities released through the redact stage's
/// <see cref="ResponseRedactor"/> under each output rule evaluated, and the best threshold of the attack on each.
/// </summary>
internal static class MembershipEvaluation
{
    /// <summary>The released forms evaluated: the model's full output, the sample policy's, then coarser ones.</summary>
    public static IReadOnlyList<(string Form, OutputRule Rule)> Forms(OutputRule policyRule) =>
    [
        ("all scores, full precision", new OutputRule { Mode = OutputMode.Scores }),
        (Describe(policyRule) + " (digits policy)", policyRule),
        ("all scores, 2 decimals", new OutputRule { Mode = OutputMode.Scores, Round = 2 }),
        ("all scores, 1 decimal", new OutputRule { Mode = OutputMode.Scores, Round = 1 }),
        ("top-3, 3 decimals", new OutputRule { Mode = OutputMode.TopK, K = 3, Round = 3 }),
        ("top-1, 3 decimals", new OutputRule { Mode = OutputMode.TopK, K = 1, Round = 3 }),
        ("label only", new OutputRule { Mode = OutputMode.Label }),
    ];

    /// <summary>Training rows attacked: <paramref name="count"/> indices evenly spaced through <paramref name="trainCount"/>, ⌊i·n/count⌋.</summary>
    public static int[] MemberIndices(int trainCount, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, trainCount);
        return Enumerable.Range(0, count).Select(i => (int)((long)i * trainCount / count)).ToArray();
    }

    public static MembershipReport Run(DigitsSession session, DigitsSplit split)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(split);
        var nonMembers = split.Test.Rows();
        var memberIndices = MemberIndices(split.Train.Count, nonMembers.Count);
        var members = memberIndices.Select(split.Train.Row).ToArray();
        var memberLabels = memberIndices.Select(i => split.Train.Labels[i]).ToArray();
        var nonMemberLabels = split.Test.Labels;

        var policy = PolicyLoader.Parse(SampleModels.GetPolicy(DigitsSample.Name));
        var policyRule = policy.Outputs[DigitsSample.OutputName];
        var memberScores = session.Run(DigitsSession.Flatten(members), members.Length);
        var nonMemberScores = session.Run(DigitsSession.Flatten(nonMembers), nonMembers.Count);
        var redactor = new ResponseRedactor();
        var results = new List<MembershipResult>();
        foreach (var (form, rule) in Forms(policyRule))
        {
            var rulePolicy = new ModelPolicy { Outputs = new Dictionary<string, OutputRule> { [DigitsSample.OutputName] = rule } };
            ReleasedConfidence Release(float[] scores, int rows) => new(
                redactor.Apply([new Tensor(DigitsSample.OutputName, TensorDataType.Fp32, [rows, DigitsData.ClassCount], scores)], rulePolicy).Outputs,
                DigitsSample.OutputName);
            var inside = Release(memberScores, members.Length);
            var outside = Release(nonMemberScores, nonMembers.Count);
            var trueLabel = MembershipAdvantage.Best(
                memberLabels.Select((label, i) => inside.Of(i, label)).ToArray(),
                nonMemberLabels.Select((label, i) => outside.Of(i, label)).ToArray());
            var top = inside.LabelOnly
                ? null
                : MembershipAdvantage.Best(
                    Enumerable.Range(0, members.Length).Select(i => inside.Top(i)!.Value).ToArray(),
                    Enumerable.Range(0, nonMembers.Count).Select(i => outside.Top(i)!.Value).ToArray());
            results.Add(new MembershipResult(form, rule, ReferenceEquals(rule, policyRule), trueLabel, top));
        }

        var memberPredictions = session.Predict(members);
        var nonMemberPredictions = session.Predict(nonMembers);
        return new MembershipReport(
            members.Length,
            nonMembers.Count,
            string.Create(CultureInfo.InvariantCulture, $"training rows ⌊i·{split.Train.Count}/{nonMembers.Count}⌋ for i = 0..{nonMembers.Count - 1} (evenly spaced in file order) against all {nonMembers.Count} held-out test rows"),
            new Rate(Enumerable.Range(0, members.Length).Count(i => memberPredictions[i] == memberLabels[i]), members.Length),
            new Rate(Enumerable.Range(0, nonMembers.Count).Count(i => nonMemberPredictions[i] == nonMemberLabels[i]), nonMembers.Count),
            results);
    }

    private static string Describe(OutputRule rule) => rule.Mode switch
    {
        OutputMode.Scores => rule.Round is { } digits ? string.Create(CultureInfo.InvariantCulture, $"all scores, {digits} decimals") : "all scores, full precision",
        OutputMode.TopK => string.Create(CultureInfo.InvariantCulture, $"top-{rule.K}") + (rule.Round is { } d ? string.Create(CultureInfo.InvariantCulture, $", {d} decimals") : ""),
        _ => "label only",
    };
}
