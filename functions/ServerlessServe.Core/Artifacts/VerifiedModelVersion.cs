using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// A model version whose manifest signature, file digests and policy have all been checked.
/// <see cref="ManifestDigest"/> is the lowercase hex SHA-256 of the signed manifest bytes: the version's identity in
/// caches and audit records.
/// </summary>
public sealed record VerifiedModelVersion(ModelManifest Manifest, string ManifestDigest, ModelPolicy Policy)
{
    /// <summary>The signed training-set statistics (<c>profile.json</c>), when the version has them.</summary>
    public InputProfile? Profile { get; init; }
}
