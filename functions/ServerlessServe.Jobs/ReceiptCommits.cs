using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Jobs;

/// <summary>
/// Writes a chunk's <c>committed</c> audit receipt after its records are in the chains, without holding the activity
/// for it. The receipt only spares a later attempt the look into the chains: an attempt that finds the chunk begun
/// but not committed looks there for each record and appends only those it does not find, so a receipt that is late,
/// or lost with the process, never lets a record be written twice or not at all. At shutdown the writes still in
/// flight are waited for; one that fails is logged (8006).
/// </summary>
public sealed class ReceiptCommits(AuditReceipts receipts, ILogger<ReceiptCommits> logger) : IHostedService
{
    private readonly ConcurrentDictionary<Task, string> _inFlight = new();

    /// <summary>Starts writing <paramref name="key"/>'s committed receipt; returns at once.</summary>
    public void Start(string key)
    {
        var write = receipts.CommitAsync(key, CancellationToken.None);
        _inFlight[write] = key;
        _ = write.ContinueWith(
            done =>
            {
                _inFlight.TryRemove(done, out _);
                if (done.Exception?.GetBaseException() is { } failure)
                {
                    Log.ReceiptCommitFailed(logger, key, failure);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Waits for every receipt write started so far (failures are logged, not thrown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(_inFlight.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Each failure is logged by its own continuation.
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => FlushAsync(cancellationToken);
}
