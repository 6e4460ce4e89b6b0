namespace ServerlessServe.Core.Audit;

/// <summary>Where a committed record is: its writer's chain, its seq (leaf seq − 1 of that writer's tree) and its Merkle leaf hash (lowercase hex).</summary>
public sealed record AuditLeaf(string WriterId, long Seq, string LeafHash);
