using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Audit;

/// <summary>A proof request: only who asks matters (authenticate, honey callers, containment); the record names its caller.</summary>
public sealed class AuditProofRequestContext(string requestId) : ModelRequestContext(requestId, "audit", null);

/// <summary>
/// <c>GET /api/audit/proofs/{requestId}</c>: the inclusion proof of a receipted request's audit record
/// (<see cref="AuditInclusionProof"/>), for the caller whose record it is. 404 for a request id without an indexed
/// receipt, for another caller's record (the same answer: no oracle), and, with <c>Retry-After</c>, for the caller's own
/// record until a signed tree head covers it (at most <see cref="AuditOptions.CheckpointInterval"/>). Storage failing
/// transiently while the record or its proof is read (<see cref="TransientFailures"/>): 503 with <c>Retry-After</c>, as
/// the job routes answer it (a 500 before 2026-12-08); a permanent fault stays a 500.
/// </summary>
public sealed class AuditProofEndpoints(
    StagePipeline<AuditProofRequestContext> callers,
    AuditReceiptIndex index,
    AuditProofs proofs,
    CallerPseudonymizer pseudonymizer,
    RequestLimits limits,
    IOptions<AuditOptions> options,
    ILogger<AuditProofEndpoints> logger)
{
    /// <summary>
    /// Each caller's limits on this route, per instance: 5 requests a second after a burst of 20, 4 at once. A proof
    /// names a record by request id, and an id whose writer's chain is not cached costs reading that whole chain, so a
    /// caller sending made-up ids of many writers could keep the instance reading chains. Polling for a pending proof
    /// (every <see cref="AuditOptions.CheckpointInterval"/>) is far below it.
    /// </summary>
    public static LimitsPolicy Limits { get; } = new() { RequestsPerSecond = 5, Burst = 20, Concurrency = 4 };

    // The limiters' key for this route: not a model name (those are lowercase letters, digits, '.', '_' and '-').
    private const string RouteKey = "(audit proofs)";

    /// <summary>
    /// The answer for one proof request, served or refused, with this request's own id in <c>x-request-id</c> (the one
    /// a security event about its caller names; none before 2026-12-08). It is not <paramref name="requestId"/>, the
    /// request whose record is asked for.
    /// </summary>
    public async Task<IActionResult> GetAsync(HttpRequest request, string requestId)
    {
        ArgumentNullException.ThrowIfNull(request);
        // As every other gateway route: its stage spans and storage reads never under the caller's trace context.
        Http.ServingTelemetry.DetachFromCaller();
        var context = new AuditProofRequestContext(RequestIds.New()) { Authorization = request.Headers.Authorization.ToString() };
        BodyResult answer;
        try
        {
            answer = await AnswerAsync(request, requestId, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (request.HttpContext.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
        {
            // The caller left: nothing reaches it, and nothing failed (not the host's unhandled error).
            answer = V2Results.Refused(Refusal.Cancelled);
        }
#pragma warning disable CA1031 // Any other failure answered here, naming its request, not by the host's last resort (which names none).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ProofFailed(logger, context.RequestId, TelemetryRedaction.Exception(ex));
            answer = V2Results.Refused(Refusal.Failed);
        }

        answer.Headers[RequestIds.Header] = context.RequestId;
        return answer;
    }

    private async Task<BodyResult> AnswerAsync(HttpRequest request, string requestId, AuditProofRequestContext context)
    {
        var aborted = request.HttpContext.RequestAborted;
        await callers.RunAsync(context, aborted).ConfigureAwait(false);
        if (context.Refusal is { } refused)
        {
            return V2Results.Refused(refused);
        }

        if (limits.TryAcquire(pseudonymizer.Pseudonymize(context.Caller!.Subject), RouteKey, Limits, out var lease) is { } limited)
        {
            return V2Results.Refused(limited);
        }

        using (lease)
        {
            try
            {
                return await ProveAsync(requestId, context, aborted).ConfigureAwait(false);
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 404)
            {
                // The audit container is not there (nothing audited yet): no such receipt, as for an id never written,
                // not a 500 (found in review 2026-12-08). Logged: once anything was audited, it is a deleted container.
                // (A wrong container name in Azure is a 403 here: the gateway's role is on its own container.)
                Log.ProofContainerMissing(logger, context.RequestId);
                return V2Results.Refused(Refusal.NotFound("no such receipt"));
            }
            catch (Exception ex) when (TransientFailures.IsTransientFailure(ex, request))
            {
                Log.ProofStorageFailed(logger, context.RequestId, TelemetryRedaction.Exception(ex));
                return V2Results.Refused(TransientFailures.StorageUnavailable);
            }
        }
    }

    private async Task<BodyResult> ProveAsync(string requestId, AuditProofRequestContext context, CancellationToken aborted)
    {
        // A synchronous request's id names its writer (AuditRequestIds); a job item's place is in the receipt index.
        var notFound = V2Results.Refused(Refusal.NotFound("no such receipt"));
        var place = await index.FindAsync(requestId, aborted).ConfigureAwait(false);
        var record = place is not null
            ? await proofs.ProveRecordAsync(place.WriterId, place.Seq, aborted).ConfigureAwait(false)
            : await proofs.ProveTaggedRequestAsync(requestId, aborted).ConfigureAwait(false);
        if (record is null
            || !string.Equals(record.RequestId, requestId, StringComparison.Ordinal)
            || (place is not null && !string.Equals(record.LeafHash, place.LeafHash, StringComparison.Ordinal))
            || !string.Equals(record.Caller, pseudonymizer.Pseudonymize(context.Caller!.Subject), StringComparison.Ordinal))
        {
            return notFound;
        }

        if (record.Proof is not { } proof)
        {
            return V2Results.Refused(Refusal.NotFound("no signed tree head covers this record yet; retry later") with { RetryAfter = options.Value.CheckpointInterval });
        }

        return V2Results.JsonBody(proof.ToJson());
    }
}
