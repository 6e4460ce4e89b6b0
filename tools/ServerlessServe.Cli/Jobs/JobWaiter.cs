namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// Polls a job until it finishes (<see cref="PollBackoff"/>). While the gateway is unreachable, answers 5xx or 429 (it
/// may be restarting) the poll is retried for up to <see cref="RetryFor"/>; any other refusal ends the wait at once.
/// </summary>
internal sealed class JobWaiter(JobApi api, TimeProvider time)
{
    /// <summary>How long polls may keep failing transiently before the wait gives up.</summary>
    public static readonly TimeSpan RetryFor = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The job once finished; or, when <paramref name="timeout"/> passes first, the last status seen (not final). Throws
    /// the last failure when the gateway never answered. Errors name <paramref name="operation"/>.
    /// </summary>
    public async Task<JobDocument> WaitAsync(string id, string operation, TimeSpan? timeout, IJobWaitObserver observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var started = time.GetTimestamp();
        var backoff = new PollBackoff();
        long? failingSince = null;
        JobDocument? last = null;
        JobApiException? lastFailure = null;
        while (true)
        {
            TimeSpan delay;
            try
            {
                var (job, retryAfter) = await api.GetAsync(id, operation, cancellationToken).ConfigureAwait(false);
                last = job;
                failingSince = null;
                observer.Seen(job);
                if (job.IsFinal)
                {
                    return job;
                }

                delay = backoff.Next(retryAfter);
            }
            catch (JobApiException failure) when (failure.IsTransient)
            {
                lastFailure = failure;
                failingSince ??= time.GetTimestamp();
                if (time.GetElapsedTime(failingSince.Value) >= RetryFor)
                {
                    throw new JobApiException($"{failure.Message} (retried for {time.GetElapsedTime(failingSince.Value).TotalSeconds:F0} s)", failure.Status, transient: false, innerException: failure);
                }

                delay = backoff.Next(failure.RetryAfter, failed: true);
                observer.Retrying(failure, delay);
            }

            // With --timeout, the last poll is at the deadline.
            var remaining = Remaining(timeout, started);
            if (remaining <= TimeSpan.Zero)
            {
                return last ?? throw new JobApiException($"{lastFailure!.Message} (until --timeout passed)", lastFailure.Status, transient: false, innerException: lastFailure);
            }

            if (remaining < delay)
            {
                delay = remaining;
            }

            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan Remaining(TimeSpan? timeout, long started) =>
        timeout is { } limit ? limit - time.GetElapsedTime(started) : TimeSpan.MaxValue;
}
