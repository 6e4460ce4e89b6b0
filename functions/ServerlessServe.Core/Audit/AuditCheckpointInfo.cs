namespace ServerlessServe.Core.Audit;

/// <summary>
/// A stored checkpoint (signed tree head) as an operator reads it: the writer's chain, the sequence number and head hash
/// it commits to, when, the signing key's id, the base64 signature, and whether the signature verifies with a trusted
/// checkpoint key (null when no keys were given to check with).
/// </summary>
public sealed record AuditCheckpointInfo(string WriterId, long Seq, string Hash, DateTimeOffset Time, string KeyId, string Signature, bool? SignatureValid);
