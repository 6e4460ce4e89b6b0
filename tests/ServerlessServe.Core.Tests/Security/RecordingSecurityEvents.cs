using System.Collections.Concurrent;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Tests.Security;

/// <summary>An <see cref="ISecurityEvents"/> that keeps what it is given, or fails as an unreachable audit trail does.</summary>
public sealed class RecordingSecurityEvents : ISecurityEvents
{
    private readonly ConcurrentQueue<SecurityEvent> _raised = new();

    /// <summary>When true, every raise fails as it does when the audit trail cannot commit the record.</summary>
    public bool AuditUnavailable { get; set; }

    public IReadOnlyList<SecurityEvent> Raised => [.. _raised];

    public ValueTask RaiseAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        if (AuditUnavailable)
        {
            throw new AuditUnavailableException();
        }

        _raised.Enqueue(securityEvent);
        return ValueTask.CompletedTask;
    }
}
