using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessServe.Hosting.Audit;

namespace ServerlessServe.Gateway;

/// <summary>Audit receipts: the inclusion proof of a receipted request, for its own caller (a caller token required).</summary>
public sealed class AuditFunctions(AuditProofEndpoints proofs)
{
    [Function("AuditProof")]
    public Task<IActionResult> Proof(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "audit/proofs/{requestId}")] HttpRequest request, string requestId) =>
        proofs.GetAsync(request, requestId);
}
