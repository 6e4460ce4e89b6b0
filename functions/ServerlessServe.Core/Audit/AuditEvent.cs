namespace ServerlessServe.Core.Audit;

/// <summary>
/// What happened to one request, as handed to the audit sink. Holds digests and verdicts, never payloads or a raw
/// caller id (<see cref="Caller"/> is already pseudonymised).
/// </summary>
public sealed record AuditEvent
{
    public required DateTimeOffset Time { get; init; }

    public required string RequestId { get; init; }

    /// <summary>HMAC-SHA256 pseudonym of the caller (hex), or <c>anonymous</c>.</summary>
    public required string Caller { get; init; }

    /// <summary>The operation, e.g. <c>infer</c>.</summary>
    public required string Operation { get; init; }

    public string? Model { get; init; }

    public string? ModelVersion { get; init; }

    public string? ManifestDigest { get; init; }

    /// <summary>SHA-256 (hex) of the canonical encoding of the input tensors.</summary>
    public string? InputSha256 { get; init; }

    /// <summary>SHA-256 (hex) of the canonical encoding of the output tensors as released.</summary>
    public string? OutputSha256 { get; init; }

    /// <summary>Verdict of each stage that ran, by stage name (authenticate … encode): <c>pass</c> or <c>refused:{kind}</c>.</summary>
    public required IReadOnlyDictionary<string, string> Stages { get; init; }

    /// <summary>Redactions by entity placeholder name (e.g. EMAIL) plus hardened outputs.</summary>
    public IReadOnlyDictionary<string, int> Redactions { get; init; } = new Dictionary<string, int>();

    /// <summary>Each defense that ran, by name (<c>ood</c>, <c>squeeze</c>): its decision and score.</summary>
    public IReadOnlyDictionary<string, AuditDefense> Defenses { get; init; } = new Dictionary<string, AuditDefense>();

    /// <summary>Set on a record of operation <see cref="SecurityOperation"/>: the security event it records.</summary>
    public AuditSecurity? Security { get; init; }

    /// <summary>The <see cref="Operation"/> of a record that holds a security event.</summary>
    public const string SecurityOperation = "security";

    /// <summary>
    /// What the caller got: <see cref="Released"/>, or the refusal kind that stopped the request (<c>invalid</c>,
    /// <c>forbidden</c>, <c>unavailable</c>…; see <c>Refusal.KindName</c>).
    /// </summary>
    public required string Outcome { get; init; }

    /// <summary>The <see cref="Outcome"/> of a request whose response was released.</summary>
    public const string Released = "released";

    public required double LatencyMs { get; init; }
}
