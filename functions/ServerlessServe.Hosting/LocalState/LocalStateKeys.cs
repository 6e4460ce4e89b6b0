namespace ServerlessServe.Hosting.LocalState;

/// <summary>
/// The key files of a local state folder (<c>.serverlessserve/keys/</c>, written by <c>ssctl keys create</c>) and the
/// setting each one supplies. One list for the writer (ssctl) and the reader (<see cref="LocalStateConfigurationSource"/>).
/// </summary>
public static class LocalStateKeys
{
    /// <summary>The setting that names the folder; a relative path is taken from the repository root.</summary>
    public const string DirectorySetting = "ServerlessServe:LocalStateDirectory";

    /// <summary>The local caller-token issuer's ES256 key (its key set also publishes every other <c>issuer*.key.pem</c>).</summary>
    public const string IssuerKey = "issuer.key.pem";
    public const string IssuerPublicKey = "issuer.pub.pem";

    /// <summary>The local caller-token issuer's RS256 key (RSA 2048, as Entra ID signs).</summary>
    public const string IssuerRsaKey = "issuer-rs256.key.pem";

    /// <summary>
    /// The secret of the local issuer's managed identity endpoint (<c>IDENTITY_HEADER</c>): given to the gateway only, as
    /// the platform gives it to an app in Azure. Not a setting: Azure.Identity reads it from the environment.
    /// </summary>
    public const string ManagedIdentitySecret = "managed-identity.secret";
    public const string ModelSigningKey = "model-signing.key.pem";
    public const string ModelSigningPublicKey = "model-signing.pub.pem";
    public const string AuditCheckpointKey = "audit-checkpoint.key.pem";
    public const string AuditCheckpointPublicKey = "audit-checkpoint.pub.pem";
    public const string AuditPseudonymKey = "audit-pseudonym.key";

    /// <summary>The audit witness's countersigning key (its heads go to container <c>audit-witness</c> locally).</summary>
    public const string AuditWitnessKey = "audit-witness.key.pem";
    public const string AuditWitnessPublicKey = "audit-witness.pub.pem";

    /// <summary>Setting → key file name, for every setting a standalone app may take from the folder.</summary>
    public static IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ServerlessServe:Models:TrustedSignerPems:0"] = ModelSigningPublicKey,
        ["ServerlessServe:Audit:PseudonymKey"] = AuditPseudonymKey,
        ["ServerlessServe:Audit:CheckpointKeyPem"] = AuditCheckpointKey,
        ["ServerlessServe:Audit:Witness:KeyPem"] = AuditWitnessKey,
    };

    /// <summary>The <c>keys/</c> folder of <paramref name="stateDirectory"/>.</summary>
    public static string KeysDirectory(string stateDirectory) => Path.Combine(stateDirectory, "keys");

    /// <summary>Finds the repository root (the folder holding <c>ServerlessServe.sln</c>) at or above <paramref name="start"/>.</summary>
    public static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ServerlessServe.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
