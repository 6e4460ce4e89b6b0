using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>authenticate</c>: the request's bearer token must validate against <typeparamref name="TAuthenticator"/> (the
/// caller issuer's metadata on the gateway, the gateway's service-token keys on the inference app). The raw header is
/// dropped either way, so no later stage and no serialised context ever holds it. Every refused token gets the same
/// answer, whichever check failed; the reason goes to the log and the <c>serverlessserve.auth.refusals</c> metric. Only
/// an issuer whose metadata cannot be read answers otherwise (unavailable: the caller's token may be fine).
/// </summary>
/// <remarks>
/// Where an <see cref="AuthRefusalTally"/> is registered (the gateway), each refusal is also counted there, for the
/// periodic <c>auth-refusals</c> summary in the audit trail.
/// </remarks>
public sealed class Authenticate<TAuthenticator>(
    TAuthenticator authenticator,
    ILogger<Authenticate<TAuthenticator>> logger,
    AuthRefusalTally? tally = null) : IRequestStage<ModelRequestContext>
    where TAuthenticator : BearerAuthenticator
{
    /// <summary>The refusal of a token for another app of this deployment: the 403 of any access refusal, reason <c>audience</c>.</summary>
    public static Refusal SiblingAudience { get; } = Refusal.Denied with { Reason = "audience" };

    public string Name => "authenticate";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var authorization = context.Authorization;
        context.Authorization = null;
        var verdict = await authenticator.AuthenticateAsync(authorization, cancellationToken).ConfigureAwait(false);
        context.Caller = verdict.Caller;
        if (verdict.Caller is { SiblingAudience: true })
        {
            // A token of this deployment for another of its apps (an admin token here): known and audited, never served.
            return SiblingAudience;
        }

        if (verdict.IsAccepted)
        {
            return StageOutcome.Pass;
        }

        // A look-ahead (the jobs API's first pass over an infer request) is run again for real when it refuses: counted
        // and logged there, once, not twice (review, 2026-12-07: every refused token counted double).
        if (!context.LookAhead)
        {
            IdentityTelemetry.Refused(logger, context.RequestId, authenticator.Name, verdict.Failure);
            tally?.Record(verdict.Failure);
        }

        return verdict.Failure == TokenFailure.MetadataUnavailable ? Refusal.IssuerUnavailable : Refusal.InvalidToken;
    }
}
