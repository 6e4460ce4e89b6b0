using System.Runtime.CompilerServices;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>screen</c>: out-of-distribution screening, when the model's policy asks for it. Each row of the screened input
/// is scored by its Mahalanobis distance from the training set (the signed <c>profile.json</c>); the request's score
/// is the largest. Above the profile's threshold the request is flagged: refused in enforce mode, recorded in shadow
/// mode. Runs after validate, so the input is known to be FP32 [batch, features].
/// </summary>
/// <remarks>
/// When the policy also asks for extraction detection (<c>defenses.extraction</c>), the request's rows and how many of
/// them the screen flagged go to the caller's extraction state for the model (<see cref="ExtractionStateStore.ObserveScreened"/>,
/// in memory, never a storage call), whatever the screen's mode and whether it refuses the request: a refused request
/// never reaches <c>extract</c>, and an attacker whose queries the screen keeps refusing is what the
/// out-of-distribution signal is for. When that raises a signal for the first time, the alarm is raised as by
/// <c>extract</c> (<see cref="DetectExtraction"/>): one security event, with this request's id, before the stage returns,
/// whatever the request's cancellation; a failure to raise it is logged and the request goes on.
/// </remarks>
public sealed class ScreenInput(ExtractionStateStore store, ExtractionAlarms alarms, CallerPseudonymizer pseudonymizer, TimeProvider time)
    : IRequestStage<InferenceContext>
{
    private readonly ConditionalWeakTable<InputProfile, MahalanobisScreen> _screens = [];

    public string Name => "screen";

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var model = context.Model ?? throw new InvalidOperationException("screen runs after resolve");
        if (model.Policy.Defenses?.Ood is not { } ood)
        {
            return StageOutcome.Pass;
        }

        // The store refuses a version whose ood screen has no profile; a missing one here is a broken invariant.
        var profile = model.Profile ?? throw new InvalidOperationException("an ood screen without a profile");
        var request = context.Request ?? throw new InvalidOperationException("screen runs after read");
        var input = request.Inputs.FirstOrDefault(i => i.Name == ood.Input) ?? throw new InvalidOperationException("screen runs after validate");
        var screen = _screens.GetValue(profile, p => new MahalanobisScreen(p));
        var screening = screen.Screen(input.As<float>(), profile.Threshold);
        var finding = new DefenseFinding("ood", ood.Mode, screening.MaxDistance, profile.Threshold);
        context.Defenses.Add(finding);
        if (model.Policy.Defenses.Extraction is { } extraction && screening.Rows > 0)
        {
            await ReportAsync(context, model, extraction, screening).ConfigureAwait(false);
        }

        return finding.Refuses ? StageOutcome.Refuse(DefenseRefusal.Refused) : StageOutcome.Pass;
    }

    // The request's screened and flagged rows to the caller's extraction state, and the alarm when they raise a signal.
    private async ValueTask ReportAsync(InferenceContext context, VerifiedModelVersion model, ExtractionPolicy extraction, RowScreening screening)
    {
        var caller = context.Caller ?? throw new InvalidOperationException("screen runs after authenticate");
        var input = context.Request!.Inputs.FirstOrDefault(i => i.Name == extraction.Input) ?? throw new InvalidOperationException("screen runs after validate");
        var key = new ExtractionKey(model.Manifest.Name, pseudonymizer.Pseudonymize(caller.Subject));
        var subject = new ExtractionSubject(extraction, model.Manifest.Version);
        var outcome = store.ObserveScreened(key, subject, checked((int)input.Shape[1]), screening.Rows, screening.FlaggedRows, time.GetUtcNow());
        if (outcome.NewlyRaised != ExtractionSignals.None)
        {
            // Not the request's token: a caller who hangs up must not take the alarm down with its request.
            await alarms.RaiseAsync(key, subject, context.RequestId, outcome.NewlyRaised, outcome.Verdict, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
