using Microsoft.Extensions.Logging;

namespace ServerlessServe.Jobs;

/// <summary>The jobs feature's log events (8000–8099). Never an item's data or a caller's token.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 8000, Level = LogLevel.Information, Message = "Job {JobId} submitted: {Model} {Version}, {Items} item(s) in {Chunks} chunk(s), {References} by reference")]
    public static partial void JobSubmitted(ILogger logger, string jobId, string model, string version, int items, int chunks, int references);

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Job purge: {Jobs} finished job(s) past their retention removed, {Blobs} payload blob(s) deleted")]
    public static partial void Purged(ILogger logger, int jobs, int blobs);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Job purge could not remove job {JobId}; the next run tries again")]
    public static partial void PurgeFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Warning, Message = "Job {JobId} chunk {Chunk}: {Activity} answered for step {OtherStep} of chunk {OtherChunk} (left over from an uncommitted attempt); calling it again")]
    public static partial void StaleStepAnswer(ILogger logger, string jobId, int chunk, string activity, string? otherStep, int? otherChunk);

    [LoggerMessage(EventId = 8019, Level = LogLevel.Error, Message = "Job {JobId}: chunk {Chunk}'s step {Step} failed on every attempt; its items not refused yet are refused as unavailable and audited")]
    public static partial void StepGaveUp(ILogger logger, string jobId, int chunk, string step);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Error, Message = "Job {JobId}: its results cannot be served ({Reason})")]
    public static partial void ResultsUnreadable(ILogger logger, string jobId, string reason);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Warning, Message = "Jobs run on the in-memory backend (ServerlessServe:Jobs:Backend = InMemory): every job is lost when this process stops. For benchmarks and development only")]
    public static partial void InMemoryBackend(ILogger logger);

    [LoggerMessage(EventId = 8006, Level = LogLevel.Warning, Message = "Audit receipt {Key}: its committed marker could not be written; a later attempt at the chunk looks into the chains instead")]
    public static partial void ReceiptCommitFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 8007, Level = LogLevel.Information, Message = "Removed {Count} durable sidecar folder(s) in {Root} left by processes that no longer run")]
    public static partial void StaleSidecarFoldersRemoved(ILogger logger, int count, string root);

    [LoggerMessage(EventId = 8008, Level = LogLevel.Information, Message = "Job refused for {Model}: its {Items} item(s) are over the caller's rate limit on the model ({Refusal})")]
    public static partial void JobRateLimited(ILogger logger, string model, int items, string refusal);

    [LoggerMessage(EventId = 8009, Level = LogLevel.Information, Message = "Job {JobId} withdrawn: its submission was not answered (its caller left, or it failed part-way); {What}")]
    public static partial void JobWithdrawn(ILogger logger, string jobId, string what);

    [LoggerMessage(EventId = 8010, Level = LogLevel.Warning, Message = "Job {JobId}: its submission was not answered and it could not be withdrawn; a job that runs is purged after its retention, stored chunks of one never scheduled are deleted by the purge once older than it")]
    public static partial void JobNotWithdrawn(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Debug, Message = "Jobs: a {Method} request's caller left before it was answered ({Exception})")]
    public static partial void CallerLeft(ILogger logger, string method, string exception);

    [LoggerMessage(EventId = 8012, Level = LogLevel.Warning, Message = "Job traffic board: not posted or read; until it is again, job windows are sized from the jobs this instance sees itself")]
    public static partial void TrafficBoardFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8013, Level = LogLevel.Information, Message = "Job traffic board: posted and read again")]
    public static partial void TrafficBoardBack(ILogger logger);

    [LoggerMessage(EventId = 8014, Level = LogLevel.Warning, Message = "Job traffic board off (ServerlessServe:Jobs:TrafficTable is empty): each instance sizes job windows from the jobs it sees itself")]
    public static partial void TrafficBoardOff(ILogger logger);

    [LoggerMessage(EventId = 8015, Level = LogLevel.Information, Message = "Job purge: {Blobs} stored chunk(s) of job {JobId} deleted; it was never scheduled (its gateway stopped part-way through the submission)")]
    public static partial void NeverScheduledDeleted(ILogger logger, string jobId, int blobs);

    [LoggerMessage(EventId = 8016, Level = LogLevel.Warning, Message = "The durable backend could not renew the lock of a running {Kind} step; it tries again before the lock expires (once expired, the step's message may be taken again and the step run twice)")]
    public static partial void LockRenewalFailed(ILogger logger, string kind, Exception exception);

    [LoggerMessage(EventId = 8018, Level = LogLevel.Warning, Message = "The durable backend took a second copy of a step that is already running here (job {JobId}, task {TaskId}); given back for later, so that the first one's answer is not lost")]
    public static partial void DuplicateActivity(ILogger logger, string jobId, int taskId);

    [LoggerMessage(EventId = 8017, Level = LogLevel.Warning, Message = "Job {JobId}: scheduled, then {Failure} while its request waited for it or read its results; answered 202 with the job's URL (the job runs; a retry would run it twice)")]
    public static partial void AnsweredAcceptedAfterFailure(ILogger logger, string jobId, string failure);

    [LoggerMessage(EventId = 8020, Level = LogLevel.Warning, Message = "Job {JobId}: storage or the durable backend failed while its submission was stored, before it was scheduled; answered 503 with Retry-After, its stored chunks withdrawn")]
    public static partial void SubmissionFailed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(EventId = 8021, Level = LogLevel.Warning, Message = "A job submission could not count its caller's running jobs (the durable backend failed); answered 503 with Retry-After")]
    public static partial void RunningJobsNotCounted(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8022, Level = LogLevel.Information, Message = "Job {JobId}: refused by its caller's rate after its chunks were stored (others took the requests meanwhile); {Blobs} stored chunk(s) deleted")]
    public static partial void JobChunksDeleted(ILogger logger, string jobId, int blobs);

    [LoggerMessage(EventId = 8025, Level = LogLevel.Error, Message = "Job {JobId}: its submission failed permanently, or its schedule call failed (sent: {ScheduleSent}; the job may exist); answered 500, recorded as the submission's refusal")]
    public static partial void SubmissionFailedPermanently(ILogger logger, string jobId, bool scheduleSent, Exception exception);

    [LoggerMessage(EventId = 8024, Level = LogLevel.Error, Message = "A jobs route ({Method}, request {RequestId}) failed; answered {Status}")]
    public static partial void RouteFailed(ILogger logger, string method, string requestId, int status, Exception exception);

    [LoggerMessage(EventId = 8023, Level = LogLevel.Warning, Message = "Job {JobId}: refused by its caller's rate after its chunks were stored, and they could not be deleted; the purge deletes them once older than the retention")]
    public static partial void JobChunksNotDeleted(ILogger logger, string jobId, Exception exception);
}
