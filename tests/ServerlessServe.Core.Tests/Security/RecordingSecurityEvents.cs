using System.Collections.Concurrent;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Tests.Security;

/// <summary>
/// Keeps every security event raised, in order, or throws <see cref="Failure"/> when one is set (a security event
/// service that cannot commit). Stands for the containment service, built on its own branch, until it is merged.
/// </summary>
internal sealed class RecordingSecurityEvents : ISecurityEvents
{
    private readonly ConcurrentQueue<SecurityEvent> _raised = new();

    public Exception? Failure { get; init; }

    public IReadOnlyList<SecurityEvent> Raised => [.. _raised];

    public ValueTask RaiseAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        if (Failure is not null)
        {
            return ValueTask.FromException(Failure);
        }

        _raised.Enqueue(securityEvent);
        return ValueTask.CompletedTask;
    }
}
