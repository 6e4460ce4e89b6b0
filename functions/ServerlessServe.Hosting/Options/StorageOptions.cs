using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// Where the blob containers live (section <c>ServerlessServe:Storage</c>). In Azure set <see cref="BlobServiceUri"/>
/// (identity-based, <c>DefaultAzureCredential</c>); locally set <see cref="ConnectionString"/> (Azurite).
/// Exactly one is required.
/// </summary>
internal sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "ServerlessServe:Storage";

    /// <summary>A storage connection string (Azurite's development string locally). No default.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob endpoint, used with the managed identity. No default.</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>
    /// The table endpoint, used with the managed identity. Default: <see cref="BlobServiceUri"/> with <c>.blob.</c>
    /// replaced by <c>.table.</c>.
    /// </summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>The table endpoint in use with the managed identity (see <see cref="TableServiceUri"/>).</summary>
    internal Uri? EffectiveTableServiceUri => TableServiceUri
        ?? (BlobServiceUri is { } blob ? new UriBuilder(blob) { Host = blob.Host.Replace(".blob.", ".table.", StringComparison.OrdinalIgnoreCase) }.Uri : null);

    /// <summary>Retries of one storage call after the first try. Default 3.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>Longest wait for one storage network operation. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(ConnectionString) == (BlobServiceUri is null))
        {
            yield return new ValidationResult(
                "Set exactly one of ServerlessServe:Storage:ConnectionString or ServerlessServe:Storage:BlobServiceUri.",
                [nameof(ConnectionString), nameof(BlobServiceUri)]);
        }
    }
}
