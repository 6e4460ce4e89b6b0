using Azure.Storage.Blobs;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// A blob container created once per process, on first use. A creation that failed (storage not up yet, a fault past
/// the client's retries) is tried again by the next caller, instead of failing every later one until the process
/// restarts.
/// </summary>
public sealed class ContainerOnce(BlobContainerClient container)
{
    private Task? _ready;

    /// <summary>Returns once the container exists.</summary>
    public async Task EnsureAsync()
    {
        var ready = _ready ??= container.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
        try
        {
            await ready.ConfigureAwait(false);
        }
        catch
        {
            _ = Interlocked.CompareExchange(ref _ready, null, ready);
            throw;
        }
    }
}
