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

    /// <summary>
    /// A signed tree head's Merkle root is not the root of the records it covers (a record was swapped or rewritten
    /// with recomputed hashes under it), or two successive heads fail their RFC 9162 consistency proof.
    /// </summary>
    Inconsistent,

    /// <summary>A tree head's <c>prevHead</c> does not name the head before it: a head was deleted.</summary>
    HeadMissing,

    /// <summary>More records follow the chain's latest head than the head schedule allows: later heads were deleted, or the writer stopped uncleanly.</summary>
    UnanchoredTail,

    /// <summary>The witness holds a head of this writer beyond the log's latest head (or a writer the log no longer has): the log was truncated or its later heads deleted.</summary>
    WitnessAhead,

    /// <summary>A witness head names a root or record hash that the log's records do not give at its tree size.</summary>
    WitnessMismatch,

    /// <summary>The log's latest head has not reached the witness within the allowed lag.</summary>
    Unwitnessed,
}
