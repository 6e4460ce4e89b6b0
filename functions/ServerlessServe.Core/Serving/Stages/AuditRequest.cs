using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>audit</c>, a closing stage: runs for every authenticated request, passed or refused, and commits its record before
/// anything is released. When the record cannot be committed the request is refused
/// (<see cref="RefusalKind.Unavailable"/>) and nothing is released: fail closed. A request that never authenticated is
/// not recorded one by one (anyone could otherwise grow the immutable log); it is counted in logs and metrics and in the
/// periodic <c>auth-refusals</c> summary record (<c>AuthRefusalTally</c>).
/// </summary>
/// <remarks>
/// A request that asked for a receipt (<see cref="InferenceContext.ReceiptRequested"/>) gets the signed receipt of its
/// committed record (<see cref="InferenceContext.Receipt"/>), passed or refused. A synchronous request's id carries its
/// writer's tag (<see cref="AuditRequestIds"/>), which finds the proof; a job item's place is remembered in
/// <paramref name="receipts"/> instead.
/// <para>
/// A caller's repeated 429s from its own limits are counted in <paramref name="refusals"/> instead of audited one by one
/// (<see cref="RateLimitRefusalTally"/>): the first in each interval has its record, the others go into the caller's
/// <c>rate-limit-refusals</c> summary. Nothing was released for them. A refusal that asked for a receipt, and a job's
/// item, are always audited one by one.
/// </para>
/// </remarks>
public sealed class AuditRequest(
    IAuditSink audit,
    CallerPseudonymizer pseudonymizer,
    TimeProvider time,
    AuditReceiptIndex? receipts = null,
    RateLimitRefusalTally? refusals = null) : IRequestStage<InferenceContext>
{
    /// <summary>The refusal of a request whose record (or security event) cannot be committed: nothing is released.</summary>
    public static Refusal Withheld { get; } = Refusal.Unavailable("audit log unavailable; response withheld") with { RetryAfter = TimeSpan.FromSeconds(1) };

    public string Name => "audit";

    /// <summary>
    /// Under which key a refusal may go into its caller's summary: a 429 under its stage's name; a blocked caller's 403
    /// or a revoked token's 401 at <c>contain</c> as <c>contain-blocked</c> or <c>contain-revoked</c>. Those were
    /// audited one by one, with nothing to bound their rate (a contain refusal spends no misses allowance), so the holder
    /// of a revoked token, or a blocked caller, grew the immutable log by one record per request for as long as it sent
    /// them (found in review 2026-12-07); so was a token of this deployment for another of its apps (an admin token at the
    /// gateway, 403 at <c>authenticate</c>: <c>authenticate-audience</c>), refused before any allowance is spent (review,
    /// the same day); so is a body shed because the instance holds as many bodies as it may (503 at <c>read</c>,
    /// <c>read-bodies</c>): an overloaded instance is not made to append for every request it sheds (review 2026-12-08).
    /// Null: audited one by one.
    /// </summary>
    private static string? TallyKey(InferenceContext context) => context.Refusal switch
    {
        { Kind: RefusalKind.RateLimited } => context.RefusedAt,
        { Reason: "blocked" or "revoked" } when context.RefusedAt == "contain" => "contain-" + context.Refusal.Reason,
        { Reason: "audience" } when context.RefusedAt == "authenticate" => "authenticate-audience",
        { Kind: RefusalKind.Unavailable, Reason: RequestLimits.BodiesReason } => context.RefusedAt + "-" + RequestLimits.BodiesReason,
        _ => null,
    };

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Caller is not { } caller)
        {
            return StageOutcome.Pass;
        }

        var pseudonym = pseudonymizer.Pseudonymize(caller.Subject);
        if (refusals is not null
            && !context.ReceiptRequested
            && context.Operation != InferenceContext.JobOperation
            && TallyKey(context) is { } key
            && refusals.TryCount(pseudonym, key))
        {
            return StageOutcome.Pass;
        }

        // Digests are the audit record's business (the inference app, which audits nothing, never computes them).
        var released = context.Refusal is null;
        context.InputSha256 ??= context.Request is { } request ? TensorDigest.Compute(request.Inputs) : null;
        context.OutputSha256 ??= released && context.Released is { } output ? TensorDigest.Compute(output.Outputs) : null;
        var auditEvent = new AuditEvent
        {
            Time = time.GetUtcNow(),
            RequestId = context.RequestId,
            Caller = pseudonym,
            Operation = context.Operation,
            Model = context.Model?.Manifest.Name,
            ModelVersion = context.Model?.Manifest.Version,
            ManifestDigest = context.Model?.ManifestDigest,
            InputSha256 = context.InputSha256,
            OutputSha256 = released ? context.OutputSha256 : null,
            Stages = context.VerdictsByStage(),
            Redactions = context.Redactions,
            Defenses = context.Defenses.ToDictionary(
                f => f.Defense,
                f => new AuditDefense(f.Flagged, f.ModeName, double.IsFinite(f.Score) ? f.Score : null, f.Threshold),
                StringComparer.Ordinal),
            Outcome = context.Refusal?.KindName ?? AuditEvent.Released,
            LatencyMs = time.GetElapsedTime(context.StartedTimestamp).TotalMilliseconds,
        };
        try
        {
            // A job's item waits for its group's outcome whatever the closing deadline: its activity is retried by the
            // orchestration, whose receipts must find the record exactly as committed (never a withheld notice after it).
            // Each group still ends within the sink's own storage timeout.
            if (context.ReceiptRequested)
            {
                context.Receipt = await audit.AppendWithReceiptAsync(auditEvent, context.Operation == InferenceContext.JobOperation ? CancellationToken.None : cancellationToken).ConfigureAwait(false);
                if (context.Operation == InferenceContext.JobOperation)
                {
                    // A job item's id names its job, not its writer: its place goes in the receipt index.
                    receipts?.Remember(context.Receipt);
                }

                return StageOutcome.Pass;
            }

            await audit.AppendAsync(auditEvent, context.Operation == InferenceContext.JobOperation ? CancellationToken.None : cancellationToken).ConfigureAwait(false);
            return StageOutcome.Pass;
        }
        catch (AuditUnavailableException ex)
        {
            return ex.RetryAfter is { } retryAfter ? Withheld with { RetryAfter = retryAfter } : Withheld;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Not committed within the closing deadline (DeadlineOptions.Closing): nothing is released. Should the record
            // still commit later, the sink appends a withheld notice for it (docs/audit.md, "Fail closed").
            return Withheld with { Reason = "deadline" };
        }
    }
}
