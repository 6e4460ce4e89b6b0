using Microsoft.DurableTask;

namespace ServerlessServe.Jobs;

/// <summary>
/// A job: each chunk of items through validate → infer → redact → audit, up to <see cref="JobInput.Window"/> chunks side by side. Deterministic: no I/O,
/// clock or GUID here (the job id comes in the input, time from the context); everything else happens in activities.
/// Items whose inference failed transiently are tried again after a durable timer (1, 2, 4, 8, 15 s), then refused as
/// unavailable; an activity that throws (storage or the audit log unavailable) is retried with back-off, and after the
/// last attempt the job fails, releasing nothing. Its input is the <see cref="JobInput"/> as a JSON string, so every
/// host hands it over the same way.
/// </summary>
public static class JobOrchestrator
{
    public const string Name = "InferenceJob";

    /// <summary>How often a chunk's inference is tried in all, while items are pending.</summary>
    public const int InferAttempts = 6;

    private static readonly TaskOptions StepRetries = TaskOptions.FromRetryPolicy(
        new RetryPolicy(maxNumberOfAttempts: 5, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromSeconds(15)));

    public static async Task<JobOutput> RunAsync(TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var job = JobInput.Parse(context.GetInput<string>());

        // At most job.Window chunks at once, the next one started when one is audited (in chunk order, so a replay
        // schedules the same tasks in the same order). A job alone on its instance may run more, and a caller's jobs
        // beside another caller's share one window: as the job was at submission, then as its last audited chunk's step
        // saw it (from history, so a replay decides the same).
        var next = 0;
        Task<ChunkStep> Start()
        {
            var chunk = next++;
            return RunChunkAsync(context, new ChunkStep(job.JobId, chunk, "submit", job.Chunks[chunk], Chunks: job.Chunks.Count));
        }

        var pending = new List<Task<ChunkStep>>();
        while (next < job.FirstWindow)
        {
            pending.Add(Start());
        }

        var results = new Payload[job.Chunks.Count];
        var done = 0;
        context.SetCustomStatus(new JobProgress(job.Items, 0));
        while (pending.Count > 0)
        {
            var finished = await Task.WhenAny(pending).ConfigureAwait(true);
            pending.Remove(finished);
            var result = await finished.ConfigureAwait(true);
            results[result.Chunk] = result.Items;
            done += job.ItemsIn(result.Chunk);
            context.SetCustomStatus(new JobProgress(job.Items, done));
            while (next < job.Chunks.Count && pending.Count < job.WindowAfter(result))
            {
                pending.Add(Start());
            }
        }

        return new JobOutput(job.Items, results);
    }

    private static async Task<ChunkStep> RunChunkAsync(TaskOrchestrationContext context, ChunkStep chunk)
    {
        chunk = await StepAsync(context, JobActivities.Validate, chunk).ConfigureAwait(true);
        chunk = await StepAsync(context, JobActivities.Infer, chunk).ConfigureAwait(true);
        for (var attempt = 1; chunk.InferPending > 0 && attempt < InferAttempts; attempt++)
        {
            var wait = TimeSpan.FromSeconds(Math.Min(15, 1 << (attempt - 1)));
            await context.CreateTimer(context.CurrentUtcDateTime + wait, CancellationToken.None).ConfigureAwait(true);
            chunk = await StepAsync(context, JobActivities.Infer, chunk).ConfigureAwait(true);
        }

        chunk = await StepAsync(context, JobActivities.Redact, chunk).ConfigureAwait(true);
        return await StepAsync(context, JobActivities.Audit, chunk).ConfigureAwait(true);
    }

    /// <summary>
    /// One activity call whose answer must be this chunk's, from this step. After a crash, an activity result from an
    /// orchestration step that was never committed can still arrive and complete whichever task took its id in the
    /// re-run; such an answer is not used, and the step is called again (each step is harmless to repeat).
    /// </summary>
    private static async Task<ChunkStep> StepAsync(TaskOrchestrationContext context, string activity, ChunkStep input)
    {
        for (var attempt = 1; ; attempt++)
        {
            var output = await context.CallActivityAsync<ChunkStep>(activity, input, StepRetries).ConfigureAwait(true);
            if (output is not null && output.JobId == input.JobId && output.Chunk == input.Chunk && output.Step == activity)
            {
                return output;
            }

            Log.StaleStepAnswer(context.CreateReplaySafeLogger("ServerlessServe.Jobs.JobOrchestrator"), input.JobId, input.Chunk, activity, output?.Step, output?.Chunk);
            if (attempt == 5)
            {
                throw new InvalidOperationException($"{activity} answered for another step five times in a row.");
            }
        }
    }
}
