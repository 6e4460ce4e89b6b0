namespace ServerlessServe.Core.Audit;

/// <summary>What <see cref="AuditVerifier"/> found wrong with a chain.</summary>
public enum AuditFailureKind
{
    /// <summary>A record's content does not match its hash, or its hash does not match the next record's <c>prev</c>.</summary>
    Modified,

    /// <summary>One or more records are missing inside the chain (a seq gap that no later record fills).</summary>
    Deleted,

    /// <summary>Records are present but out of order (seq goes backwards, repeats, or a missing seq appears later).</summary>
    Reordered,

    /// <summary>A validly signed checkpoint names a seq beyond the last record, or a hash that is not the record's at that seq.</summary>
    Truncated,

    /// <summary>A checkpoint is not signed by a trusted key, or its signature does not verify.</summary>
    BadCheckpointSignature,

    /// <summary>A line, checkpoint or blob name is not in the audit format.</summary>
    Malformed,

    /// <summary>
    /// The chain holds records but no signed checkpoint: its checkpoints were deleted, or the writer stopped before its
    /// first one. Cutting or rewriting such a chain would leave no other trace.
    /// </summary>
    Unanchored,
}
