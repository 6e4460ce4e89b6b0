using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Signatures;

/// <summary>One pass of the replay store's cleanup: delete the nonces expired by now, and log how many (or the failure).</summary>
public sealed class NonceCleanup(NonceStore nonces, TimeProvider time, ILogger<NonceCleanup> logger)
{
    /// <summary>Deletes expired nonces; a failure is logged and left for the next pass.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var deleted = await nonces.DeleteExpiredAsync(time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            if (deleted > 0)
            {
                Log.NoncesDeleted(logger, nonces.TableName, deleted);
            }
        }
        catch (Exception ex) when (Serving.StoreFailures.IsUnreachable(ex, cancellationToken))
        {
            Log.NonceCleanupFailed(logger, nonces.TableName, ex);
        }
    }
}
