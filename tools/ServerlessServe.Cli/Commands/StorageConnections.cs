using Azure.Identity;
using Azure.Storage.Blobs;

namespace ServerlessServe.Cli.Commands;

/// <summary>Blob containers for CLI commands: a connection string locally, the signed-in identity in Azure.</summary>
internal static class StorageConnections
{
    public static BlobContainerClient Container(string? connectionString, Uri? blobUri, string container) =>
        blobUri is not null
            ? new BlobServiceClient(blobUri, new DefaultAzureCredential()).GetBlobContainerClient(container)
            : new BlobServiceClient(connectionString ?? CommonOptions.DefaultConnectionString()).GetBlobContainerClient(container);
}
