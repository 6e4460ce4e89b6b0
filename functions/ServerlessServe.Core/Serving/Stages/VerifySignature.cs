using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>signature</c>: when the model's policy requires signed requests, the request must carry an RFC 9421 signature by
/// a key registered to the caller, over the method, target URI, body digest and bearer token, created within the
/// policy's window, with a nonce never seen before (<see cref="RequestSignatureCheck"/>). Runs after read (it needs the
/// body as received) and before validate; passes at once for any other model. A refusal is the uniform 401 of refused
/// tokens, its reason in the verdict (<c>refused:unauthenticated:replay</c>).
/// </summary>
public sealed class VerifySignature(RequestSignatureCheck check) : IRequestStage<InferenceContext>
{
    public string Name => "signature";

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var refusal = await check.CheckAsync(context, context.BodyBytes, cancellationToken).ConfigureAwait(false);
            return refusal is null ? StageOutcome.Pass : refusal;
        }
        finally
        {
            // Nothing reads the body after its digest: its buffer goes back to the pool.
            context.ReleaseBody();
        }
    }
}
