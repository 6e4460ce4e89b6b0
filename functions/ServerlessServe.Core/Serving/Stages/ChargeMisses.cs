using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>miss</c>, a closing stage: a request refused as a model its caller cannot have spends one of the caller's misses,
/// which <see cref="CheckMisses"/> reads on the caller's next requests, and gives back the hold <c>misses</c> took for it
/// if <c>authorize</c> did not. A look-ahead run is not charged: the request's own pipeline runs next and charges it once.
/// </summary>
public sealed class ChargeMisses(RequestLimits limits, CallerPseudonymizer pseudonymizer) : IRequestStage<ModelRequestContext>
{
    public string Name => "miss";

    /// <summary>
    /// Whether a request refused with <paramref name="refusal"/> at <paramref name="refusedAt"/> is a miss: an unknown
    /// model or version (<c>resolve</c>, or a honey name at <c>honey-model</c>), a version that may not serve refused to a
    /// caller not shown to have access, and a caller the model's policy (<c>authorize</c>) or the honey list
    /// (<c>honey-caller</c>) refuses. Everything a hidden model's 404 answers, and nothing else: a malformed version,
    /// a store outage or a rate limit is not one.
    /// </summary>
    public static bool IsMiss(Refusal? refusal, string? refusedAt) => refusal is not null && refusedAt switch
    {
        "honey-caller" or "authorize" => refusal.Kind == RefusalKind.Forbidden,
        "honey-model" or "resolve" => refusal.Kind == RefusalKind.NotFound
            || (refusal.Kind == RefusalKind.Unavailable && refusal.Reason == ResolveModel.AccessUnproven),
        _ => false,
    };

    public ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var miss = !context.LookAhead && context.Caller is not null && IsMiss(context.Refusal, context.RefusedAt);
        if (context.PendingMiss is { } reservation)
        {
            reservation.Settle(miss);
        }
        else if (miss)
        {
            limits.ChargeMiss(pseudonymizer.Pseudonymize(context.Caller!.Subject));
        }

        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
