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

    /// <summary>Runs for each event raised (e.g. logs it, as a real implementation does).</summary>
    public Action<SecurityEvent>? OnRaise { get; set; }

    public IReadOnlyList<SecurityEvent> Raised => [.. _raised];

    /// <summary>The events of <paramref name="kind"/> raised so far.</summary>
    public IReadOnlyList<SecurityEvent> OfKind(string kind) => _raised.Where(e => e.Kind == kind).ToList();

    public ValueTask RaiseAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        if (AuditUnavailable)
        {
            throw new AuditUnavailableException();
        }

        _raised.Enqueue(securityEvent);
        OnRaise?.Invoke(securityEvent);
        return ValueTask.CompletedTask;
    }
}
