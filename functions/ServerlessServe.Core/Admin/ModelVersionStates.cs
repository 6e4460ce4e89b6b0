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

    /// <summary>Fails verification (signature, manifest, digests, policy): never served.</summary>
    public const string FailedVerification = "failed-verification";
}
