namespace ServerlessServe.Core.Security;

/// <summary>Raises security events: applies each one's containment and writes it to the audit trail and telemetry.</summary>
public interface ISecurityEvents
{
    /// <summary>
    /// Applies <paramref name="securityEvent"/>'s action (on this instance at once, on every instance within the
    /// containment refresh interval), appends it to the audit trail and emits it as telemetry. Returns once the audit
    /// record is committed; throws <see cref="Audit.AuditUnavailableException"/> when it cannot be (the containment
    /// still applies).
    /// </summary>
    ValueTask RaiseAsync(SecurityEvent securityEvent, CancellationToken cancellationToken);
}
