using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>limit</c>: the caller's request rate and concurrency on this model (the policy's <c>limits</c>, else
/// <c>ServerlessServe:Limits</c>), after authorize. Over either: 429 with <c>Retry-After</c>; the refusal is audited
/// with the caller's pseudonym. One caller's flood spends only its own allowance. An infer request's body is then
/// counted as read reads it, against the caller's and the instance's bytes in flight (<see cref="RequestLimits.ReserveBody"/>,
/// <see cref="CountedBodyStream"/>): over the caller's 429, over the instance's 503, both with <c>Retry-After</c>,
/// ending the read.
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
        if (context is InferenceContext { Body: { } body } inference)
        {
            // Counted as it arrives, and then what reading it holds besides; past the caller's or the instance's bytes in
            // flight, the read ends in 429 or 503. Given back by release, with the places just taken.
            var reservation = limits.ReserveBody(pseudonym);
            context.Leases.Add(reservation);
            long? header = long.TryParse(body.InferenceHeaderLength, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            var binary = body.InferenceHeaderLength is not null;
            long maxElements = protocolLimits.MaxElementsPerRequest;
            inference.Body = body with
            {
                Content = new CountedBodyStream(
                    body.Content, reservation, body.ContentLength, length => CountedBodyStream.V2Decoded(length, binary ? header ?? 0 : null, maxElements)),
            };
        }

        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
