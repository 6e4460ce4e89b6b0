namespace ServerlessServe.Core.Audit;

/// <summary>Durable, tamper-evident audit log.</summary>
public interface IAuditSink
{
    /// <summary>The id of this writer's chain (the records it appends name it).</summary>
    string WriterId { get; }

    /// <summary>
    /// Appends the event to this writer's hash chain and returns only once it is durably committed.
    /// Throws <see cref="AuditUnavailableException"/> when it cannot be written: the caller must then withhold the
    /// response (an unavailable refusal).
    /// </summary>
    ValueTask AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="AppendAsync"/>, then signs the receipt of the committed record (<see cref="AuditReceipt"/>): where it is
    /// in the Merkle log and what it states. Throws as <see cref="AppendAsync"/> does; no receipt without a commit.
    /// </summary>
    ValueTask<AuditReceipt> AppendWithReceiptAsync(AuditEvent auditEvent, CancellationToken cancellationToken);

    /// <summary>
    /// The receipt of <paramref name="record"/>, a record already committed (found in a chain, any writer's), signed
    /// with this sink's checkpoint key: for a job's audit step run again after its records were committed.
    /// </summary>
    AuditReceipt SignReceipt(AuditRecord record);
}
