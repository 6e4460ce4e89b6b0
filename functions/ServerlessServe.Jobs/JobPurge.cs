using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServerlessServe.Jobs;

/// <summary>
/// Removes finished jobs past their retention (<see cref="JobOptions.ResultRetention"/>): first their payload blobs,
/// then their orchestration state, so a purge that stops half-way is finished by the next run. Runs on a timer
/// (<c>PurgeExpiredJobs</c>, schedule <c>ServerlessServe:Jobs:PurgeSchedule</c>). Then the chunks of submissions never
/// scheduled (their gateway stopped between storing them and scheduling the job), once older than the retention. The
/// audit records stay: they are the immutable log, and the write-once receipts beside them are kept with it.
/// </summary>
public sealed class JobPurge(PayloadStore payloads, TimeProvider time, IOptions<JobOptions> options, ILogger<JobPurge> logger)
{
    public async Task<(int Jobs, int Blobs)> RunAsync(DurableTaskClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var cutoff = time.GetUtcNow() - options.Value.ResultRetention;
        var query = new OrchestrationQuery
        {
            CreatedTo = cutoff,
            Statuses = [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated],
            FetchInputsAndOutputs = false,
            PageSize = 100,
        };
        var expired = new List<string>();
        await foreach (var job in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (job.LastUpdatedAt <= cutoff && string.Equals(job.Name, JobOrchestrator.Name, StringComparison.Ordinal))
            {
                expired.Add(job.InstanceId);
            }
        }

        var (jobs, blobs) = (0, 0);
        foreach (var id in expired)
        {
            try
            {
                blobs += await payloads.DeleteJobAsync(id, cancellationToken).ConfigureAwait(false);
                await client.PurgeInstanceAsync(id, cancellationToken).ConfigureAwait(false);
                jobs++;
            }
#pragma warning disable CA1031 // One job that cannot be purged now must not stop the others; the next run retries it.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                Log.PurgeFailed(logger, id, ex);
            }
        }

        // Chunks of submissions that were never scheduled: the gateway was stopped between storing a job's chunks and
        // scheduling it, so no instance exists for the purge above to find. Only once every blob of the job is older
        // than the retention (a submission writes its chunks within moments and schedules the job right after).
        foreach (var id in await payloads.JobsStoredBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                if (expired.Contains(id) || await client.GetInstanceAsync(id, getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is not null)
                {
                    continue;
                }

                var deleted = await payloads.DeleteJobAsync(id, cancellationToken).ConfigureAwait(false);
                blobs += deleted;
                Log.NeverScheduledDeleted(logger, id, deleted);
            }
#pragma warning disable CA1031 // As above: the next run tries again.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                Log.PurgeFailed(logger, id, ex);
            }
        }

        if (jobs > 0)
        {
            Log.Purged(logger, jobs, blobs);
        }

        return (jobs, blobs);
    }
}
