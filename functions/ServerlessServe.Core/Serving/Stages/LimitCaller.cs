using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>limit</c>: the caller's request rate and concurrency on this model (the policy's <c>limits</c>, else
/// <c>ServerlessServe:Limits</c>), after authorize. Over either: 429 with <c>Retry-After</c>; the refusal is audited
/// with the caller's pseudonym. One caller's flood spends only its own allowance. An infer request's body is then
/// counted, before it is read, against the caller's and the instance's bytes in flight
/// (<see cref="RequestLimits.TryReserveBody"/>): over the caller's 429, over the instance's 503, both with
/// <c>Retry-After</c>.
/// </summary>
public sealed class LimitCaller(RequestLimits limits, CallerPseudonymizer pseudonymizer, ProtocolLimits protocolLimits) : IRequestStage<ModelRequestContext>
{
    public string Name => "limit";

    public ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller ?? throw new InvalidOperationException("limit runs after authenticate");
        var model = context.Model ?? throw new InvalidOperationException("limit runs after resolve");
        var pseudonym = pseudonymizer.Pseudonymize(caller.Subject);
        if (limits.TryAcquire(pseudonym, model.Manifest.Name, model.Policy.Limits, out var lease) is { } refusal)
        {
            return ValueTask.FromResult<StageOutcome>(refusal);
        }

        context.Leases.Add(lease!);
        if (context is InferenceContext { Body: { } body })
        {
            var charge = RequestLimits.BodyCharge(
                body.ContentLength, body.InferenceHeaderLength is not null, protocolLimits.MaxBodyBytes, protocolLimits.MaxElementsPerRequest);
            if (limits.TryReserveBody(pseudonym, charge, out var bytes) is { } tooMuch)
            {
                // The places just taken are given back by release, as for any refusal after limit.
                return ValueTask.FromResult<StageOutcome>(tooMuch);
            }

            context.Leases.Add(bytes!);
        }

        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
