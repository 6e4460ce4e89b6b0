using System.Collections.Concurrent;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Tests.Security;

/// <summary>
/// Keeps every security event raised, in order, and hands it on to <see cref="Inner"/> (the real
/// <see cref="SecurityEventWriter"/> in the in-process stack), or fails as an unreachable audit trail does.
/// </summary>
public sealed class RecordingSecurityEvents : ISecurityEvents
{
    private readonly ConcurrentQueue<SecurityEvent> _raised = new();
    private readonly ConcurrentQueue<SecurityEvent> _settled = new();

    /// <summary>Thrown by every raise when set.</summary>
    public Exception? Failure { get; init; }

    /// <summary>When true, every raise fails as it does when the audit trail cannot commit the record.</summary>
    public bool AuditUnavailable { get; set; }

    /// <summary>Runs for each event raised (e.g. logs it, as a real implementation does).</summary>
    public Action<SecurityEvent>? OnRaise { get; set; }

    /// <summary>Where each event goes after it is recorded; null: nowhere.</summary>
    public ISecurityEvents? Inner { get; set; }

    public IReadOnlyList<SecurityEvent> Raised => [.. _raised];

    /// <summary>
    /// The events whose raise has finished, <see cref="Inner"/> included (its containment in force, its audit record
    /// appended or refused). An event is in <see cref="Raised"/> as soon as its raise starts, so a test that acts on
    /// the containment of an event raised outside its own request (a job's item) waits for it here.
    /// </summary>
    public IReadOnlyList<SecurityEvent> Settled => [.. _settled];

    /// <summary>The events of <paramref name="kind"/> raised so far.</summary>
    public IReadOnlyList<SecurityEvent> OfKind(string kind) => _raised.Where(e => e.Kind == kind).ToList();

    public ValueTask RaiseAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        if (Failure is not null)
        {
            return ValueTask.FromException(Failure);
        }

        if (AuditUnavailable)
        {
            return ValueTask.FromException(new AuditUnavailableException());
        }

        _raised.Enqueue(securityEvent);
        OnRaise?.Invoke(securityEvent);
        return Inner is null ? Settle(securityEvent) : RaiseInnerAsync(Inner, securityEvent, cancellationToken);
    }

    private ValueTask Settle(SecurityEvent securityEvent)
    {
        _settled.Enqueue(securityEvent);
        return ValueTask.CompletedTask;
    }

    private async ValueTask RaiseInnerAsync(ISecurityEvents inner, SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        try
        {
            await inner.RaiseAsync(securityEvent, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _settled.Enqueue(securityEvent);
        }
    }
}
