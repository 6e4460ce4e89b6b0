using Microsoft.DurableTask;

namespace ServerlessServe.Jobs;

/// <summary>
/// A job: every item through validate → infer → redact → audit, items side by side. Deterministic: no I/O, clock or
/// GUID here (the job id comes in the input); everything else happens in activities. Inference is retried with
/// back-off when its activity throws; refusals (an unreachable inference app included, for now) come back as values
/// and are not retried. Its input is the <see cref="JobInput"/> as a JSON string, so every host hands it over the
/// same way.
/// </summary>
public static class JobOrchestrator
{
    public const string Name = "InferenceJob";

    private static readonly TaskOptions Retries = TaskOptions.FromRetryPolicy(
        new RetryPolicy(maxNumberOfAttempts: 6, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromSeconds(15)));

    public static async Task<JobOutput> RunAsync(TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var job = JobInput.Parse(context.GetInput<string>());
        var pending = Enumerable.Range(0, job.Items.Count).Select(i => RunItemAsync(context, ItemState.Start(job, i))).ToList();
        var results = new ItemResult[job.Items.Count];
        var done = 0;
        context.SetCustomStatus(new JobProgress(job.Items.Count, 0));
        while (pending.Count > 0)
        {
            var finished = await Task.WhenAny(pending).ConfigureAwait(true);
            pending.Remove(finished);
            var result = await finished.ConfigureAwait(true);
            results[result.Index] = result;
            context.SetCustomStatus(new JobProgress(job.Items.Count, ++done));
        }

        return new JobOutput(results);
    }

    private static async Task<ItemResult> RunItemAsync(TaskOrchestrationContext context, ItemState item)
    {
        item = await context.CallActivityAsync<ItemState>(JobActivities.Validate, item).ConfigureAwait(true);
        if (item.RefusalKind is null)
        {
            try
            {
                item = await context.CallActivityAsync<ItemState>(JobActivities.Infer, item, Retries).ConfigureAwait(true);
            }
            catch (TaskFailedException)
            {
                // Every attempt failed transiently: the item is refused as unavailable (and still audited).
                item = JobActivities.InferenceGaveUp(item);
            }
        }

        if (item.RefusalKind is null)
        {
            item = await context.CallActivityAsync<ItemState>(JobActivities.Redact, item).ConfigureAwait(true);
        }

        // Fail closed: if the record cannot be committed after every retry, the job fails and releases nothing.
        item = await context.CallActivityAsync<ItemState>(JobActivities.Audit, item, Retries).ConfigureAwait(true);
        return JobResults.For(item);
    }
}
