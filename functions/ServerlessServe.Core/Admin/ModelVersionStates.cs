namespace ServerlessServe.Core.Admin;

/// <summary>What the platform does with a stored model version, as the admin plane lists it.</summary>
public static class ModelVersionStates
{
    /// <summary>Verifies and is not contained: served when named, and as "latest" when it is the newest such version.</summary>
    public const string Serving = "serving";

    /// <summary>Withdrawn by a quarantine in the containment table; the previous good version serves "latest".</summary>
    public const string Quarantined = "quarantined";

    /// <summary>Signed by a key whose signatures are revoked (every version it signed stops serving).</summary>
    public const string SignerRevoked = "signer-revoked";

    /// <summary>Deprecated by the signed lifecycle document: served only to callers who name it, until its sunset.</summary>
    public const string Deprecated = "deprecated";

    /// <summary>Retired by the signed lifecycle document (or deprecated past its sunset): answered as not found.</summary>
    public const string Retired = "retired";

    /// <summary>Listed in the signed revocation list, or signed by a key it revokes: unavailable.</summary>
    public const string Revoked = "revoked";

    /// <summary>The model's lifecycle document in force is signed by a revoked key: no version serves until a new one is published.</summary>
    public const string Withdrawn = "withdrawn";

    /// <summary>Fails verification (signature, manifest, digests, policy): never served.</summary>
    public const string FailedVerification = "failed-verification";
}
