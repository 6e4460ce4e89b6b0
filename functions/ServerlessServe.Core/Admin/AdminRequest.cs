using ServerlessServe.Core.Identity;

namespace ServerlessServe.Core.Admin;

/// <summary>
/// One admin request as the audit trail records it: a server-made request id, the authenticated admin (its subject is
/// pseudonymised before anything is written), the action, the model version it is about when there is one, and its
/// target as short name/value pairs (pseudonyms, names, key ids — never a raw caller id or a file's content).
/// </summary>
public sealed record AdminRequest(string RequestId, CallerIdentity Admin, string Action)
{
    public string? Model { get; init; }

    public string? ModelVersion { get; init; }

    public string? ManifestDigest { get; init; }

    public IReadOnlyDictionary<string, string> Target { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>A new admin request id: <c>adm-</c> and 32 hex characters.</summary>
    public static string NewId() => "adm-" + Guid.NewGuid().ToString("N");
}
