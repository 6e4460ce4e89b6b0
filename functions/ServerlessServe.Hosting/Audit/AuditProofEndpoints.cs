using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Audit;

/// <summary>A proof request: only who asks matters (authenticate, honey callers, containment); the record names its caller.</summary>
public sealed class AuditProofRequestContext(string requestId) : ModelRequestContext(requestId, "audit", null);

/// <summary>
/// <c>GET /api/audit/proofs/{requestId}</c>: the inclusion proof of a receipted request's audit record
/// (<see cref="AuditInclusionProof"/>), for the caller whose record it is. 404 for a request id without an indexed
/// receipt, for another caller's record (the same answer: no oracle), and, with <c>Retry-After</c>, for the caller's own
/// record until a signed tree head covers it (at most <see cref="AuditOptions.CheckpointInterval"/>).
/// </summary>
public sealed class AuditProofEndpoints(
    StagePipeline<AuditProofRequestContext> callers,
    AuditReceiptIndex index,
    AuditProofs proofs,
    CallerPseudonymizer pseudonymizer,
    IOptions<AuditOptions> options)
{
    /// <summary>The answer for one proof request.</summary>
    public async Task<IActionResult> GetAsync(HttpRequest request, string requestId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var aborted = request.HttpContext.RequestAborted;
        var context = new AuditProofRequestContext(RequestIds.New()) { Authorization = request.Headers.Authorization.ToString() };
        await callers.RunAsync(context, aborted).ConfigureAwait(false);
        if (context.Refusal is { } refused)
        {
            return V2Results.Refused(refused);
        }

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
