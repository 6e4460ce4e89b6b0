using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Azure.Storage.Blobs;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// The audit witness (<c>ServerlessServe:Audit:Witness</c>): a second store, with its own identity, write-once policy and
/// signing key, that receives a countersigned copy of every signed tree head (<see cref="AuditWitnessHead"/>), so a log
/// rewritten, truncated or stripped of its later heads no longer matches it. Configured when <see cref="KeyPem"/> (or
/// <see cref="Key"/>) is set; without it the sink logs a warning at start and writes no witness.
/// </summary>
public sealed class AuditWitnessOptions
{
    /// <summary>
    /// The witness storage account's blob endpoint (another account than the log's, reached with the app's managed
    /// identity). Default null: <see cref="ConnectionString"/>, or else the log's own account (local development only:
    /// one account administrator could then change both).
    /// </summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>
    /// Client id of the user-assigned managed identity that writes to <see cref="BlobServiceUri"/> (in Azure the witness
    /// identity, which holds a role on the witness container only; the app's own identity holds none there). Default
    /// null: the app's default credential (<c>AZURE_CLIENT_ID</c>, the developer's sign-in locally).
    /// </summary>
    [RegularExpression("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Connection string of the witness storage account (Azurite locally). Default null.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Blob container of witness heads; created when missing. Default <c>audit-witness</c>.</summary>
    [Required]
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")]
    public string Container { get; set; } = "audit-witness";

    /// <summary>The witness's ECDSA P-256 private key as PKCS#8 PEM (Key Vault secret <c>audit-witness-key</c>). Default null.</summary>
    public string? KeyPem { get; set; }

    /// <summary>The witness key, set in code (the sink does not dispose it); wins over <see cref="KeyPem"/>. Default null.</summary>
    public ECDsa? Key { get; set; }

    /// <summary>The witness container, set in code or by the host from the settings above; wins over them. Default null.</summary>
    public BlobContainerClient? ContainerClient { get; set; }

    /// <summary>True when a witness key is given.</summary>
    public bool IsConfigured => Key is not null || !string.IsNullOrWhiteSpace(KeyPem);
}
