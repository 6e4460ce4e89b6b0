namespace ServerlessServe.Core.Audit;

/// <summary>
/// A security event as an audit record keeps it (<c>security</c>, record format 4; see
/// <see cref="Security.SecurityEvent"/>): its kind, the containment action taken (<c>none</c>, <c>throttle</c>,
/// <c>block</c>, <c>quarantine</c>), the evidence, and for a timed action when it ends and the rate it allows.
/// </summary>
public sealed record AuditSecurity(
    string Kind,
    string Action,
    IReadOnlyDictionary<string, string> Evidence,
    DateTimeOffset? Until = null,
    int? RequestsPerMinute = null);
