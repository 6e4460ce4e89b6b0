namespace ServerlessServe.Core.Audit;

/// <summary>
/// A committed record as a proof request sees it: whose it is (<paramref name="RequestId"/>, the caller pseudonym
/// <paramref name="Caller"/>), its leaf hash, and its inclusion proof (null until a tree head covers it).
/// </summary>
public sealed record AuditProvenRecord(string RequestId, string Caller, string LeafHash, AuditInclusionProof? Proof);
