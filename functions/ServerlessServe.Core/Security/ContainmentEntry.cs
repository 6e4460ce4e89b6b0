namespace ServerlessServe.Core.Security;

/// <summary>
/// One containment in force: a caller throttled or blocked, or a model version quarantined. Kept in the containment
/// table (shared by every instance) until it expires or <c>ssctl contain lift</c> removes it.
/// </summary>
/// <param name="Kind">Throttle or block (a caller), quarantine (a model version).</param>
/// <param name="Subject">
/// The caller's pseudonym for a throttle or block; <c>{model}/{version}</c> for a quarantine (see <see cref="ModelSubject"/>).
/// </param>
/// <param name="Until">When it ends; null: until lifted.</param>
/// <param name="RequestsPerMinute">For a throttle: the requests a minute allowed on each instance.</param>
/// <param name="Reason">The kind of the security event that set it, or <c>operator</c>.</param>
/// <param name="EventId">The security event's id (the audit record's request id), or null when an operator set it.</param>
/// <param name="Created">When it was set.</param>
public sealed record ContainmentEntry(
    ContainmentKind Kind,
    string Subject,
    DateTimeOffset? Until,
    int? RequestsPerMinute,
    string Reason,
    string? EventId,
    DateTimeOffset Created)
{
    /// <summary>The <see cref="Reason"/> of an entry an operator set with <c>ssctl</c>.</summary>
    public const string OperatorReason = "operator";

    /// <summary>The subject of a quarantine of <paramref name="version"/> of <paramref name="model"/>.</summary>
    public static string ModelSubject(string model, string version) => model + "/" + version;

    /// <summary>True while in force at <paramref name="now"/>.</summary>
    public bool InForce(DateTimeOffset now) => Until is not { } until || until > now;

    /// <summary>
    /// What an automatic decision (<paramref name="proposed"/>, from a security event) leaves in force where
    /// <paramref name="current"/> (same kind and subject, an operator's or an earlier event's) may already be: never
    /// weaker than either. It ends at the later of the two ends (until lifted, if either is), and a throttle allows the
    /// fewer requests a minute. Null when <paramref name="current"/> is in force and already at least as strong: nothing
    /// to write. Before 2026-12-07 the latest decision won outright, so an event with a short or lenient action replaced
    /// an operator's block "until lifted", or a throttle a caller had earned elsewhere: tripping a second, milder alarm
    /// let a throttled caller out of its throttle (found in review).
    /// </summary>
    public static ContainmentEntry? Strengthen(ContainmentEntry? current, ContainmentEntry proposed, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        if (current is null || !current.InForce(now) || current.Kind != proposed.Kind || !string.Equals(current.Subject, proposed.Subject, StringComparison.Ordinal))
        {
            return proposed;
        }

        DateTimeOffset? until = current.Until is { } a && proposed.Until is { } b ? (a > b ? a : b) : null;
        // A throttle's rate: null reads as 1 a minute (CallerStanding), the strictest.
        int? rate = proposed.Kind == ContainmentKind.Throttle
            ? Math.Min(Math.Max(1, current.RequestsPerMinute ?? 1), Math.Max(1, proposed.RequestsPerMinute ?? 1))
            : proposed.RequestsPerMinute;
        var stronger = until != current.Until || (proposed.Kind == ContainmentKind.Throttle && rate < Math.Max(1, current.RequestsPerMinute ?? 1));
        return stronger ? proposed with { Until = until, RequestsPerMinute = rate } : null;
    }
}
