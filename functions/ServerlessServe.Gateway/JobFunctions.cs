using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using ServerlessServe.Jobs;

namespace ServerlessServe.Gateway;

/// <summary>
/// Jobs: the API (a caller token required, as for infer), the orchestrator and its activities — each a one-line
/// adapter over ServerlessServe.Jobs. Under the Functions host the Durable extension runs them; standalone, the Durable
/// Task SDK worker runs the same methods (from functions.metadata).
/// </summary>
public sealed class JobFunctions(JobEndpoints jobs, JobActivities activities, JobPurge purge)
{
    [Function("SubmitJob")]
    public Task<IActionResult> Submit(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v2/models/{model}/jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string model) =>
        jobs.SubmitAsync(request, client, model, null);

    [Function("SubmitVersionJob")]
    public Task<IActionResult> SubmitVersion(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v2/models/{model}/versions/{version}/jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string model,
        string version) =>
        jobs.SubmitAsync(request, client, model, version);

    [Function("JobStatus")]
    public Task<IActionResult> Status(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "jobs/{id}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string id) =>
        jobs.StatusAsync(request, client, id);

    [Function("CancelJob")]
    public Task<IActionResult> Cancel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "jobs/{id}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string id) =>
        jobs.CancelAsync(request, client, id);

    /// <summary>Finished jobs past their retention: payloads deleted, state purged (schedule: an app setting, NCRONTAB).</summary>
    [Function("PurgeExpiredJobs")]
    public Task PurgeExpiredJobs(
        [TimerTrigger("%ServerlessServe:Jobs:PurgeSchedule%")] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        purge.RunAsync(client, cancellationToken);

    [Function(JobOrchestrator.Name)]
    public static Task<JobOutput> InferenceJob([OrchestrationTrigger] TaskOrchestrationContext context) =>
        JobOrchestrator.RunAsync(context);

    [Function(JobActivities.Validate)]
    public Task<ChunkStep> ValidateItems([ActivityTrigger] ChunkStep chunk) => activities.ValidateAsync(chunk);

    [Function(JobActivities.Infer)]
    public Task<ChunkStep> InferItems([ActivityTrigger] ChunkStep chunk) => activities.InferAsync(chunk);

    [Function(JobActivities.Redact)]
    public Task<ChunkStep> RedactItems([ActivityTrigger] ChunkStep chunk) => activities.RedactAsync(chunk);

    [Function(JobActivities.GiveUp)]
    public Task<ChunkStep> GiveUpItems([ActivityTrigger] ChunkStep chunk) => activities.GiveUpAsync(chunk);

    [Function(JobActivities.Audit)]
    public Task<ChunkStep> AuditItems([ActivityTrigger] ChunkStep chunk) => activities.AuditAsync(chunk);
}
