using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>limit</c>: the caller's request rate and concurrency on this model (the policy's <c>limits</c>, else
/// <c>ServerlessServe:Limits</c>), after authorize. Over either: 429 with <c>Retry-After</c>; the refusal is audited
/// with the caller's pseudonym. One caller's flood spends only its own allowance.
/// </summary>
public sealed class LimitCaller(RequestLimits limits, CallerPseudonymizer pseudonymizer) : IRequestStage<ModelRequestContext>
{
    public string Name => "limit";

    public ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller ?? throw new InvalidOperationException("limit runs after authenticate");
        var model = context.Model ?? throw new InvalidOperationException("limit runs after resolve");
        if (limits.TryAcquire(pseudonymizer.Pseudonymize(caller.Subject), model.Manifest.Name, model.Policy.Limits, out var lease) is { } refusal)
        {
            return ValueTask.FromResult<StageOutcome>(refusal);
        }

        context.Leases.Add(lease!);
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
