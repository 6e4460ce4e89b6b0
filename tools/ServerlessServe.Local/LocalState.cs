using System.Buffers.Text;
using System.Security.Cryptography;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Hosting.LocalState;

namespace ServerlessServe.Local;

/// <summary>
/// The git-ignored folder (default <c>.serverlessserve/</c> at the repository root) where <c>ssctl up</c> keeps the
/// local issuer, model-signing and audit keys, the secret of the gateway's local managed identity endpoint, Azurite's data and the logs. In Azure these keys live in
/// Key Vault instead. Private key files are created with owner-only permissions.
/// </summary>
public sealed class LocalState
{
    public const string DefaultFolderName = ".serverlessserve";

    public LocalState(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    public string KeysDirectory => LocalStateKeys.KeysDirectory(Directory);

    public string IssuerKey => Key(LocalStateKeys.IssuerKey);

    public string IssuerPublicKey => Key(LocalStateKeys.IssuerPublicKey);

    /// <summary>The local issuer's RS256 key (RSA 2048).</summary>
    public string IssuerRsaKey => Key(LocalStateKeys.IssuerRsaKey);

    /// <summary>
    /// Where the running local issuer writes its URL (<see cref="LocalIssuer.Issuer"/>), so that <c>ssctl token</c>
    /// in another process mints tokens with the <c>iss</c> it serves.
    /// </summary>
    public string IssuerUrlFile => Path.Combine(Directory, "issuer.url");

    /// <summary>The secret of the local issuer's managed identity endpoint (<c>IDENTITY_HEADER</c>), given to the gateway only.</summary>
    public string ManagedIdentitySecret => Key(LocalStateKeys.ManagedIdentitySecret);

    public string ModelSigningKey => Key(LocalStateKeys.ModelSigningKey);

    public string ModelSigningPublicKey => Key(LocalStateKeys.ModelSigningPublicKey);

    public string AuditCheckpointKey => Key(LocalStateKeys.AuditCheckpointKey);

    public string AuditCheckpointPublicKey => Key(LocalStateKeys.AuditCheckpointPublicKey);

    public string AuditPseudonymKey => Key(LocalStateKeys.AuditPseudonymKey);

    /// <summary>The audit witness's countersigning key (docs/audit.md, "Witness").</summary>
    public string AuditWitnessKey => Key(LocalStateKeys.AuditWitnessKey);

    public string AuditWitnessPublicKey => Key(LocalStateKeys.AuditWitnessPublicKey);

    public string AzuriteDirectory => Path.Combine(Directory, "azurite");

    public string LogsDirectory => Path.Combine(Directory, "logs");

    public string SamplesDirectory => Path.Combine(Directory, "samples");

    /// <summary>
    /// Creates every missing key; existing keys are kept. Returns what it did, a line per file: the keys created, a
    /// public key made again from its private key, and a public key whose private key was gone, kept under a new name
    /// beside the new pair (<c>*.pub.pem.replaced-{UTC}</c>) rather than written over: it may be the only copy of the
    /// key that verifies an existing audit trail or the models a deployment trusts (a deployment keeps the audit
    /// private keys in its Key Vault only). Each file is written under a temporary name and renamed into place, so a
    /// run cut short leaves no partial key.
    /// </summary>
    public IReadOnlyList<string> EnsureKeys()
    {
        System.IO.Directory.CreateDirectory(KeysDirectory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(KeysDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var created = new List<string>();
        foreach (var (privatePath, publicPath) in new[]
                 {
                     (IssuerKey, IssuerPublicKey),
                     (ModelSigningKey, ModelSigningPublicKey), (AuditCheckpointKey, AuditCheckpointPublicKey),
                     (AuditWitnessKey, AuditWitnessPublicKey),
                 })
        {
            if (File.Exists(privatePath))
            {
                if (!File.Exists(publicPath))
                {
                    using var existing = SigningKeys.ImportPem(File.ReadAllText(privatePath));
                    WriteAtomically(publicPath, SigningKeys.ExportPublicKeyPem(existing), secret: false);
                    created.Add(Path.GetFileName(publicPath) + " (made again from its private key)");
                }

                continue;
            }

            if (File.Exists(publicPath))
            {
                var kept = publicPath + ".replaced-" + DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                File.Move(publicPath, kept);
                created.Add(Path.GetFileName(publicPath) + " (its private key was gone: the earlier public key is kept as " + Path.GetFileName(kept) + ")");
            }

            using var key = SigningKeys.CreateP256();

            // The private half first (a second run at the same moment fails on it, as before): a run cut short between
            // the two leaves a private key whose public key the next run makes again, as above.
            WriteSecret(privatePath, SigningKeys.ExportPrivateKeyPem(key));
            WriteAtomically(publicPath, SigningKeys.ExportPublicKeyPem(key), secret: false);
            created.Add(Path.GetFileName(privatePath));
        }

        if (!File.Exists(IssuerRsaKey))
        {
            using var key = LocalIssuerKey.Create(LocalIssuerKey.Rs256);
            WriteSecret(IssuerRsaKey, key.ExportPrivateKeyPem());
            created.Add(Path.GetFileName(IssuerRsaKey));
        }

        if (!File.Exists(ManagedIdentitySecret))
        {
            WriteSecret(ManagedIdentitySecret, Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)));
            created.Add(Path.GetFileName(ManagedIdentitySecret));
        }

        if (!File.Exists(AuditPseudonymKey))
        {
            WriteSecret(AuditPseudonymKey, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            created.Add(Path.GetFileName(AuditPseudonymKey));
        }

        return created;
    }

    /// <summary>
    /// The configuration a standalone app needs from this folder, as <c>key=value</c> pairs in ASP.NET configuration
    /// form (only the keys that exist).
    /// </summary>
    public IReadOnlyDictionary<string, string> Configuration() =>
        LocalStateKeys.Settings
            .Where(pair => File.Exists(Key(pair.Value)))
            .ToDictionary(pair => pair.Key, pair => File.ReadAllText(Key(pair.Value)).Trim(), StringComparer.Ordinal);

    /// <summary>Finds the repository root (the folder holding <c>ServerlessServe.sln</c>) at or above <paramref name="start"/>.</summary>
    public static string? FindRepositoryRoot(string start) => LocalStateKeys.FindRepositoryRoot(start);

    private string Key(string name) => Path.Combine(KeysDirectory, name);

    /// <summary>Writes a private key file readable by its owner only (it must not exist yet), whole or not at all.</summary>
    internal static void WriteSecret(string path, string contents) => WriteAtomically(path, contents, secret: true);

    /// <summary>
    /// Writes the new file <paramref name="path"/> whole or not at all (a temporary name beside it, flushed, then
    /// renamed; owner-only from its creation when <paramref name="secret"/>). Throws when it exists already.
    /// </summary>
    public static void WriteNewFile(string path, string contents, bool secret) => WriteAtomically(path, contents, secret);

    /// <summary>
    /// Writes <paramref name="path"/> (it must not exist yet) under a temporary name beside it, flushed to disk, then
    /// renamed into place: a kill or a full disk leaves no partial file at <paramref name="path"/>. A
    /// <paramref name="secret"/> is readable by its owner only from its creation.
    /// </summary>
    private static void WriteAtomically(string path, string contents, bool secret)
    {
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (secret && !OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(contents));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: false);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
