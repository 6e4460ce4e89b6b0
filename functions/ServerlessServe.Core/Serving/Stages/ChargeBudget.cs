using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>budget</c>: when the model's policy sets <c>limits.dailyElements</c>, the request's input elements are charged to
/// the caller's daily budget on the model, shared by every instance (<see cref="SharedBudgets"/>); spent: 429 with
/// <c>Retry-After</c> until the next UTC day. Runs after validate (the element count is known and checked).
/// </summary>
public sealed class ChargeBudget(SharedBudgets budgets, CallerPseudonymizer pseudonymizer) : IRequestStage<InferenceContext>
{
    public string Name => "budget";

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var model = context.Model ?? throw new InvalidOperationException("budget runs after resolve");
        if (model.Policy.Limits?.DailyElements is not { } budget)
        {
            return StageOutcome.Pass;
        }

        var caller = context.Caller ?? throw new InvalidOperationException("budget runs after authenticate");
        var request = context.Request ?? throw new InvalidOperationException("budget runs after read");
        var elements = request.Inputs.Sum(static i => (long)i.ElementCount);
        var refusal = await budgets.ChargeAsync(pseudonymizer.Pseudonymize(caller.Subject), model.Manifest.Name, budget, elements, cancellationToken).ConfigureAwait(false);
        return refusal is null ? StageOutcome.Pass : refusal;
    }
}
