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
}
