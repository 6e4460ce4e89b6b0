using System.Text.Json.Serialization;
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

    /// <summary>
    /// The bytes it was verified from, for re-attestation while it serves (<see cref="ModelAttestation"/>). Set by the
    /// <see cref="ModelStore"/>; never serialised (a copy that crossed a process boundary has none).
    /// </summary>
    [JsonIgnore]
    public AttestationEvidence? Evidence { get; init; }
}
