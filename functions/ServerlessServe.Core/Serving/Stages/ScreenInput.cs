using System.Runtime.CompilerServices;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>screen</c>: out-of-distribution screening, when the model's policy asks for it. Each row of the screened input
/// is scored by its Mahalanobis distance from the training set (the signed <c>profile.json</c>); the request's score
/// is the largest. Above the profile's threshold the request is flagged: refused in enforce mode, recorded in shadow
/// mode. Runs after validate, so the input is known to be FP32 [batch, features].
/// </summary>
public sealed class ScreenInput : IRequestStage<InferenceContext>
{
    private readonly ConditionalWeakTable<InputProfile, MahalanobisScreen> _screens = [];

    public string Name => "screen";

    public ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var model = context.Model ?? throw new InvalidOperationException("screen runs after resolve");
        if (model.Policy.Defenses?.Ood is not { } ood)
        {
            return ValueTask.FromResult(StageOutcome.Pass);
        }

        // The store refuses a version whose ood screen has no profile; a missing one here is a broken invariant.
        var profile = model.Profile ?? throw new InvalidOperationException("an ood screen without a profile");
        var request = context.Request ?? throw new InvalidOperationException("screen runs after read");
        var input = request.Inputs.FirstOrDefault(i => i.Name == ood.Input) ?? throw new InvalidOperationException("screen runs after validate");
        var screen = _screens.GetValue(profile, p => new MahalanobisScreen(p));
        var finding = new DefenseFinding("ood", ood.Mode, screen.MaxDistance(input.As<float>()), profile.Threshold);
        context.Defenses.Add(finding);
        return ValueTask.FromResult(finding.Refuses ? StageOutcome.Refuse(DefenseRefusal.Refused) : StageOutcome.Pass);
    }
}
