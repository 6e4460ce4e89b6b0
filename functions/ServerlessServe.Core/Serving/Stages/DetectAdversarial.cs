using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>squeeze</c>: adversarial-example detection by feature squeezing, when the model's policy asks for it. The
/// inference app ran the model on the input and its squeezed copies in one call and reported the request's score (the
/// largest L1 distance between predictions) in the response parameter <see cref="FeatureSqueezing.ScoreParameter"/>;
/// this stage holds it to the policy's threshold: refused in enforce mode, recorded in shadow mode. A response without
/// the score counts as flagged (fail closed). Redact drops the parameter, so it never reaches the caller.
/// </summary>
public sealed class DetectAdversarial : IRequestStage<InferenceContext>
{
    public string Name => "squeeze";

    public ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var model = context.Model ?? throw new InvalidOperationException("squeeze runs after resolve");
        if (model.Policy.Defenses?.Squeeze is not { } squeeze)
        {
            return ValueTask.FromResult(StageOutcome.Pass);
        }

        var inferred = context.Inferred ?? throw new InvalidOperationException("squeeze runs after infer");
        var score = inferred.Parameters.TryGetValue(FeatureSqueezing.ScoreParameter, out var value) && value.TryGetDouble(out var reported)
            ? reported
            : double.NaN;
        var finding = new DefenseFinding("squeeze", squeeze.Mode, score, squeeze.Threshold);
        context.Defenses.Add(finding);
        return ValueTask.FromResult(finding.Refuses ? StageOutcome.Refuse(DefenseRefusal.Refused) : StageOutcome.Pass);
    }
}
