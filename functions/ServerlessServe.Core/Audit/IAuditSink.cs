namespace ServerlessServe.Core.Audit;

/// <summary>Durable, tamper-evident audit log.</summary>
public interface IAuditSink
{
    /// <summary>
    /// Appends the event to this writer's hash chain and returns only once it is durably committed.
    /// Throws <see cref="AuditUnavailableException"/> when it cannot be written: the caller must then withhold the
    /// response (an unavailable refusal).
    /// </summary>
    ValueTask AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken);
}
