namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// The signed revocation list (<c>revocations/{sequence}.json</c>): model versions and model-signing keys that never
/// serve again. Each new list has a higher <see cref="Sequence"/> and is a new blob holding the whole list; the highest
/// that verifies is in force, and an instance never goes back to a lower one.
/// </summary>
public sealed record RevocationList
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>What is in force before any list has been published: nothing is revoked.</summary>
    public static RevocationList None { get; } = new()
    {
        SchemaVersion = CurrentSchemaVersion,
        Sequence = 0,
        Issued = DateTimeOffset.UnixEpoch,
        SignerKeyId = string.Empty,
        Versions = [],
        Signers = [],
    };

    public required int SchemaVersion { get; init; }

    /// <summary>1 for the first list, one more for each after it.</summary>
    public required long Sequence { get; init; }

    /// <summary>When it was signed (UTC, whole seconds).</summary>
    public required DateTimeOffset Issued { get; init; }

    /// <summary>The key id of the key that signed it.</summary>
    public required string SignerKeyId { get; init; }

    /// <summary>Revoked versions.</summary>
    public required IReadOnlyList<RevokedVersion> Versions { get; init; }

    /// <summary>Key ids of revoked model-signing keys: no manifest, lifecycle document or revocation list they signed is accepted.</summary>
    public required IReadOnlyList<string> Signers { get; init; }

    /// <summary>
    /// True when <paramref name="version"/> may not serve: its name and version are listed, its manifest digest is
    /// listed, or its signer is revoked.
    /// </summary>
    public bool Revokes(VerifiedModelVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var manifest = version.Manifest;
        return Signers.Contains(manifest.SignerKeyId, StringComparer.Ordinal)
            || Versions.Any(v => (v.Name == manifest.Name && v.Version == manifest.Version) || v.ManifestSha256 == version.ManifestDigest);
    }

    /// <summary>True when <paramref name="keyId"/> is a revoked signing key.</summary>
    public bool RevokesSigner(string keyId) => Signers.Contains(keyId, StringComparer.Ordinal);
}
