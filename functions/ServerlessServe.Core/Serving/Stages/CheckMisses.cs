using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>misses</c>, right after authenticate: a caller that has spent its misses (<see cref="LimitOptions.MissesPerSecond"/>:
/// requests answered as a model it cannot have, counted by <see cref="ChargeMisses"/>) is refused 429 with
/// <c>Retry-After</c> before the model is looked up. Every later check of the model — honey caller, honey model, the
/// catalog's store lookup, the policy's roles — is skipped, so a caller probing model names costs at most its allowance
/// of store lookups and audit records, and one that is out of misses gets the same 429 whichever model it names: an
/// unknown one, a honey name, one it may not use, or one it may. The request holds one of the caller's misses until it is
/// known not to be one (<see cref="RequestLimits.ReserveMiss"/>), so requests sent at once cannot overdraw the allowance.
/// </summary>
public sealed class CheckMisses(RequestLimits limits, CallerPseudonymizer pseudonymizer) : IRequestStage<ModelRequestContext>
{
    public string Name => "misses";

    public ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller ?? throw new InvalidOperationException("misses runs after authenticate");
        if (limits.ReserveMiss(pseudonymizer.Pseudonymize(caller.Subject), out var reservation) is { } refusal)
        {
            return ValueTask.FromResult<StageOutcome>(refusal);
        }

        context.PendingMiss = reservation;
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
