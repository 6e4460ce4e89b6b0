namespace ServerlessServe.Core.Hosting.Options;

/// <summary>
/// Where the blob containers live (section <c>ServerlessServe:Storage</c>). In Azure set <see cref="BlobServiceUri"/>
/// (identity-based, <c>DefaultAzureCredential</c>); locally set <see cref="ConnectionString"/> (Azurite).
/// Exactly one is required.
/// </summary>
public sealed class StorageOptions
{
    public const string SectionName = "ServerlessServe:Storage";

    /// <summary>A storage connection string (Azurite's development string locally). No default.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob endpoint, used with the managed identity. No default.</summary>
    public Uri? BlobServiceUri { get; set; }
}
