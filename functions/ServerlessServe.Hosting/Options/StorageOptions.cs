using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// Where the blob containers and tables live (section <c>ServerlessServe:Storage</c>). In Azure set
/// <see cref="BlobServiceUri"/> (identity-based, <c>DefaultAzureCredential</c>) and, for tables in another account,
/// <see cref="TableServiceUri"/>; locally set <see cref="ConnectionString"/> (Azurite). Exactly one of the connection
/// string and the blob endpoint is required.
/// </summary>
internal sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "ServerlessServe:Storage";

    /// <summary>A storage connection string (Azurite's development string locally). No default.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob endpoint, used with the managed identity. No default.</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>
    /// The table endpoint (the extraction detector's states), used with the managed identity. Default: the blob
    /// endpoint's account (<c>.blob.</c> read as <c>.table.</c>); ignored with a connection string.
    /// </summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>The table endpoint in use with the managed identity: <see cref="TableServiceUri"/>, or the blob endpoint's account.</summary>
    public Uri? TableEndpoint => TableServiceUri ?? (BlobServiceUri is { } blob && blob.Host.Contains(".blob.", StringComparison.OrdinalIgnoreCase)
        ? new UriBuilder(blob) { Host = blob.Host.Replace(".blob.", ".table.", StringComparison.OrdinalIgnoreCase) }.Uri
        : null);

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

        if (BlobServiceUri is not null && TableEndpoint is null)
        {
            yield return new ValidationResult(
                "Set ServerlessServe:Storage:TableServiceUri: the table endpoint cannot be derived from ServerlessServe:Storage:BlobServiceUri.",
                [nameof(TableServiceUri)]);
        }
    }
}
