namespace ServerlessServe.Core.Security;

/// <summary>
/// Containment an operator sets or lifts (with <c>ssctl contain</c> or through the admin plane), straight in the
/// containment table every gateway instance reads: an entry with reason <see cref="ContainmentEntry.OperatorReason"/>,
/// in force everywhere within one refresh interval.
/// </summary>
public sealed class OperatorContainment(ContainmentStore store, TimeProvider time)
{
    /// <summary>The table's name.</summary>
    public string TableName => store.TableName;

    /// <summary>
    /// Sets <paramref name="kind"/> on <paramref name="subject"/> (a caller pseudonym, or <see cref="ContainmentEntry.ModelSubject"/>)
    /// for <paramref name="duration"/> (null: until lifted), replacing an earlier one of the same kind and subject.
    /// <paramref name="eventId"/> names the audit record of the decision, when there is one. A subject or duration that
    /// would contain nothing (<see cref="ContainmentSubjects.Problem"/>) is refused with <see cref="ArgumentException"/>
    /// before anything is stored: stored, it would replace, and so lift, the entry in force on the same subject.
    /// </summary>
    public async Task<ContainmentEntry> SetAsync(ContainmentKind kind, string subject, TimeSpan? duration, int? requestsPerMinute, string? eventId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        if (ContainmentSubjects.Problem(kind, subject, duration) is { } problem)
        {
            throw new ArgumentException(problem);
        }

        var now = time.GetUtcNow();
        var entry = new ContainmentEntry(kind, subject, duration is { } d ? now + d : null, requestsPerMinute, ContainmentEntry.OperatorReason, eventId, now);
        await store.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        await store.SetAsync(entry, cancellationToken).ConfigureAwait(false);
        return entry;
    }

    /// <summary>Lifts <paramref name="kind"/> on <paramref name="subject"/>; false when none was set.</summary>
    public async Task<bool> LiftAsync(ContainmentKind kind, string subject, CancellationToken cancellationToken)
    {
        await store.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        return await store.LiftAsync(kind, subject, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every entry in force now.</summary>
    public async Task<IReadOnlyList<ContainmentEntry>> InForceAsync(CancellationToken cancellationToken)
    {
        await store.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return (await store.ListAsync(cancellationToken).ConfigureAwait(false)).Where(e => e.InForce(now)).ToList();
    }
}
