using Microsoft.DurableTask;

namespace ServerlessServe.Jobs;

/// <summary>
/// A job: each chunk of items through validate → infer → redact → audit, up to <see cref="JobInput.Window"/> chunks side by side. Deterministic: no I/O,
/// clock or GUID here (the job id comes in the input, time from the context); everything else happens in activities.
/// Items whose inference failed transiently are tried again after a durable timer (1, 2, 4, 8, 15 s), then refused as
/// unavailable; an activity that throws (storage or the audit log unavailable) is retried with back-off, and after the
/// last attempt the job fails, releasing nothing. Its input is the <see cref="JobInput"/> as a JSON string, so every
/// host hands it over the same way.
/// A caller's cancel is the event <see cref="CancelEvent"/>, not a termination: no chunk starts after it, and the chunks
/// in flight go on to their audit step at once, their items not yet inferred refused as cancelled (no inference, no
/// wait for a retry), so every item a model ran on, and every item refused, has its one record. The job then ends
/// <see cref="JobOutput.Cancelled"/>, with the results of the chunks it started: the items released before the cancel
/// was seen, and the ones refused.
/// </summary>
public static class JobOrchestrator
{
    public const string Name = "InferenceJob";

    /// <summary>The external event by which a running job is cancelled (<c>DELETE /api/jobs/{id}</c>, or a submission withdrawn).</summary>
    public const string CancelEvent = "Cancel";

    /// <summary>How often a chunk's inference is tried in all, while items are pending.</summary>
    public const int InferAttempts = 6;

    private static readonly TaskOptions StepRetries = TaskOptions.FromRetryPolicy(
        new RetryPolicy(maxNumberOfAttempts: 5, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromSeconds(15)));

    public static async Task<JobOutput> RunAsync(TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var job = JobInput.Parse(context.GetInput<string>());
        // Waited on from the start, so a cancel raised before the job ran is seen once its first window is scheduled.
        var cancel = new JobCancel(context.WaitForExternalEvent<string>(CancelEvent));

        // At most job.Window chunks at once, the next one started when one is audited (in chunk order, so a replay
        // schedules the same tasks in the same order). A job alone on its instance may run more, and a caller's jobs
        // beside another caller's share one window: as the job was at submission, then as its last audited chunk's step
        // saw it (from history, so a replay decides the same).
        var next = 0;
        Task<ChunkStep> Start()
        {
            var chunk = next++;
            return RunChunkAsync(context, cancel, new ChunkStep(job.JobId, chunk, "submit", job.Chunks[chunk], Chunks: job.Chunks.Count));
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
            IEnumerable<Task> waits = cancel.Requested ? pending : pending.Append<Task>(cancel.Event);
            var finished = await Task.WhenAny(waits).ConfigureAwait(true);
            if (finished == cancel.Event)
            {
                cancel.Requested = true;
                context.SetCustomStatus(new JobProgress(job.Items, done, Cancelling: true));
                continue;
            }

            var chunkTask = (Task<ChunkStep>)finished;
            pending.Remove(chunkTask);
            var result = await chunkTask.ConfigureAwait(true);
            results[result.Chunk] = result.Items;
            done += job.ItemsIn(result.Chunk);
            context.SetCustomStatus(new JobProgress(job.Items, done, Cancelling: cancel.Requested));
            while (!cancel.Requested && next < job.Chunks.Count && pending.Count < job.WindowAfter(result))
            {
                pending.Add(Start());
            }
        }

        // A cancelled job returns the results of the chunks it started (chunks start in order and every one started is
        // audited, so they are the first `next`): an item audited as released is handed to the caller, as its record
        // says. Before 2026-12-08 a cancelled job returned none, and items whose redact step ran before the cancel was
        // seen were audited as released but never reached anyone.
        return cancel.Requested ? new JobOutput(done, results[..next], Cancelled: true) : new JobOutput(job.Items, results);
    }

    private static async Task<ChunkStep> RunChunkAsync(TaskOrchestrationContext context, JobCancel cancel, ChunkStep chunk)
    {
        // A step that fails on every attempt no longer fails the job with its items unaudited: what it leaves is refused
        // (the give-up step) and audited like any refusal. Only an audit that cannot commit fails the job.
        var progress = new ChunkProgress(chunk);
        try
        {
            chunk = await RunStepsAsync(context, cancel, progress).ConfigureAwait(true);
        }
        catch (Exception ex) when (ex is TaskFailedException or StaleStepException)
        {
            Log.StepGaveUp(context.CreateReplaySafeLogger("ServerlessServe.Jobs.JobOrchestrator"), progress.Chunk.JobId, progress.Chunk.Chunk, progress.Step);
            // In a job cancelled meanwhile, refused as cancelled (before 2026-12-07 only a chunk that reached redact was).
            chunk = await StepAsync(context, JobActivities.GiveUp, progress.Chunk with { GaveUpAt = progress.Step, Cancelled = cancel.Requested }).ConfigureAwait(true);
        }

        return await StepAsync(context, JobActivities.Audit, chunk).ConfigureAwait(true);
    }

    // validate → infer (tried again while items are pending) → redact; each step's input is the chunk as the step before
    // left it. Keeps in progress the step running and the chunk it was given, so a failure names both.
    private static async Task<ChunkStep> RunStepsAsync(TaskOrchestrationContext context, JobCancel cancel, ChunkProgress progress)
    {
        var chunk = progress.Chunk;
        progress.Step = JobActivities.Validate;
        chunk = progress.Chunk = await StepAsync(context, JobActivities.Validate, chunk).ConfigureAwait(true);
        progress.Step = JobActivities.Infer;
        if (!cancel.Requested)
        {
            chunk = progress.Chunk = await StepAsync(context, JobActivities.Infer, chunk).ConfigureAwait(true);
        }

        for (var attempt = 1; chunk.InferPending > 0 && attempt < InferAttempts && !cancel.Requested; attempt++)
        {
            var wait = TimeSpan.FromSeconds(Math.Min(15, 1 << (attempt - 1)));
            using var timerDone = new CancellationTokenSource();
            var timer = context.CreateTimer(context.CurrentUtcDateTime + wait, timerDone.Token);
            if (await Task.WhenAny(timer, cancel.Event).ConfigureAwait(true) != timer)
            {
                // Cancelled during the back-off: the timer is let go, and the items still pending are refused below.
                cancel.Requested = true;
                timerDone.Cancel();
                break;
            }

            chunk = progress.Chunk = await StepAsync(context, JobActivities.Infer, chunk).ConfigureAwait(true);
        }

        // From here on a cancel refuses, in the redact step, each item not inferred yet (verdict cancelled at infer).
        progress.Step = JobActivities.Redact;
        chunk = progress.Chunk = chunk with { Cancelled = cancel.Requested };
        return await StepAsync(context, JobActivities.Redact, chunk).ConfigureAwait(true);
    }

    /// <summary>A chunk's way through its steps: the step running, and the chunk as the last step that answered left it.</summary>
    private sealed class ChunkProgress(ChunkStep chunk)
    {
        public ChunkStep Chunk { get; set; } = chunk;

        public string Step { get; set; } = JobActivities.Validate;
    }

    /// <summary>
    /// A job's cancel: the event's task, and whether the orchestration has seen it. Set only by orchestration code as
    /// it observes the event, so a replay sets it at the same point of the history.
    /// </summary>
    private sealed class JobCancel(Task<string> cancelEvent)
    {
        public Task<string> Event { get; } = cancelEvent;

        public bool Requested { get; set; }
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
                throw new StaleStepException($"{activity} answered for another step five times in a row.");
            }
        }
    }
}

/// <summary>An activity that answered for another step every time it was called (<c>JobOrchestrator.StepAsync</c>).</summary>
public sealed class StaleStepException : Exception
{
    public StaleStepException()
    {
    }

    public StaleStepException(string message)
        : base(message)
    {
    }

    public StaleStepException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
