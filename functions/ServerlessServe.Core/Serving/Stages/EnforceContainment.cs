using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>contain</c>: a revoked token (by its id, or every token issued to the caller up to a revocation) gets the same 401
/// as any refused token (<see cref="Refusal.InvalidToken"/>, reason <c>revoked</c> in logs and metrics, and the
/// request is audited: its token was genuine); a blocked caller gets the same 403 as any access refusal (<see cref="Refusal.Denied"/>); a throttled
/// one 429 once its allowance on this instance is spent. Runs after authenticate, before the model is resolved. A lookup
/// in this instance's view of the containment table; it waits for storage only before the view's first read, and
/// refuses (unavailable) when that read has not completed within <see cref="ContainmentOptions.FirstReadTimeout"/>:
/// fail closed.
/// </summary>
public sealed class EnforceContainment(
    ContainmentRegistry registry,
    CallerPseudonymizer pseudonymizer,
    IOptions<ContainmentOptions> options,
    ILogger<EnforceContainment> logger) : IRequestStage<ModelRequestContext>
{
    /// <summary>A revoked token: the 401 of any refused token; the audit verdict says <c>revoked</c>.</summary>
    public static Refusal Revoked { get; } = Refusal.InvalidToken with { Reason = "revoked" };

    /// <summary>A blocked caller: the 403 of any access refusal; the audit verdict says <c>blocked</c>.</summary>
    public static Refusal Blocked { get; } = Refusal.Denied with { Reason = "blocked" };

    /// <summary>A throttled caller over its allowance; the audit verdict says <c>throttled</c>.</summary>
    public static Refusal Throttled { get; } = Refusal.RateLimited("too many requests") with { Reason = "throttled" };

    /// <summary>While this instance's view of the containment table is unread or stale: 503, try again in a second.</summary>
    public static Refusal Unread { get; } = Refusal.Unavailable("service unavailable") with { RetryAfter = TimeSpan.FromSeconds(1) };

    public string Name => "contain";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller ?? throw new InvalidOperationException("contain runs after authenticate");
        var (refusal, pseudonym, standing) = await CheckAsync(registry, pseudonymizer, options.Value, caller, cancellationToken).ConfigureAwait(false);
        if (ReferenceEquals(refusal, Revoked) && !context.LookAhead)
        {
            // Once: a look-ahead's refusal sends the request down the inline path, whose contain stage logs it (review 2026-12-07).
            IdentityTelemetry.Refused(logger, context.RequestId, "caller", TokenFailure.Revoked);
        }

        if (refusal is not null)
        {
            return refusal;
        }

        if (standing.RequestsPerMinute is { } rate && !registry.TryAcquire(pseudonym, rate, out var wait))
        {
            // With when the next request's worth is there, as every other 429 (it was sent without one).
            return Throttled with { RetryAfter = wait };
        }

        return StageOutcome.Pass;
    }

    /// <summary>
    /// What the containment in force says of <paramref name="caller"/>, throttles apart: unavailable while this
    /// instance's view is unread or stale (fail closed), <see cref="Revoked"/>, <see cref="Blocked"/>, or null; with
    /// the caller's pseudonym and standing. Shared by every check of a caller (the jobs' items too).
    /// </summary>
    public static async ValueTask<(Refusal? Refusal, string Pseudonym, CallerStanding Standing)> CheckAsync(
        ContainmentRegistry registry, CallerPseudonymizer pseudonymizer, ContainmentOptions options, CallerIdentity caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(pseudonymizer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(caller);
        if (!await registry.IsCurrentAsync(options, cancellationToken).ConfigureAwait(false))
        {
            return (Unread, string.Empty, CallerStanding.Clear);
        }

        var pseudonym = pseudonymizer.Pseudonymize(caller.Subject);
        var standing = registry.Standing(pseudonym);
        var refusal = standing.IsRevoked(caller.IssuedAt) || registry.IsTokenRevoked(caller.TokenId) ? Revoked
            : standing.Blocked ? Blocked
            : null;
        return (refusal, pseudonym, standing);
    }
}
