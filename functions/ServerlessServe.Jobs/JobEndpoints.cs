using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Jobs;

/// <summary>A jobs API request: only who asks matters (authenticate); the model comes from the job.</summary>
public sealed class JobRequestContext(string requestId) : ModelRequestContext(requestId, "jobs", null);

/// <summary>
/// The jobs API over a durable client: submit (authenticate → resolve → authorize, as infer, and for a model whose policy
/// requires signed requests the signature over the whole submitted body, checked before the job starts), status and cancel (the
/// submitting caller only; anyone else gets 404, as for a job that does not exist).
/// </summary>
public sealed class JobEndpoints(
    GatewayEndpoints gateway,
    StagePipeline<ModelRequestContext> models,
    StagePipeline<JobRequestContext> callers,
    StagePipeline<SubmissionRefusalContext> refusals,
    IAuditSink auditSink,
    RequestSignatureCheck signatures,
    RequestLimits rateLimits,
    CallerPseudonymizer pseudonymizer,
    PayloadStore payloads,
    ProtocolLimits limits,
    TimeProvider time,
    JobTraffic traffic,
    JobTrafficBoard board,
    IOptions<JobOptions> options,
    IOptions<ModelCatalogOptions> catalogOptions,
    IOptions<EdgeOptions> edge,
    IOptions<SignatureOptions> publicOrigin,
    ContainmentRegistry containment,
    ILogger<JobEndpoints> logger)
{
    private readonly ConcurrentDictionary<(string Model, string? Version), (ExecutionMode Mode, DateTimeOffset Until)> _modes = new();
    private readonly ConcurrentDictionary<(string Model, string? Version), byte> _refreshing = new();

    /// <summary>
    /// <c>POST /v2/models/{model}[/versions/{version}]/jobs</c>: one V2 request, or <c>{"items":[...]}</c>. A submission
    /// whose caller leaves before it is answered is withdrawn (see <see cref="WithdrawAsync"/>).
    /// </summary>
    public Task<IActionResult> SubmitAsync(HttpRequest request, DurableTaskClient client, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var requestId = AuditRequestIds.New(auditSink.WriterId);
        return UntilTheCallerLeavesAsync(request, requestId, () => SubmitCoreAsync(request, client, model, version, requestId));
    }

    private async Task<IActionResult> SubmitCoreAsync(HttpRequest request, DurableTaskClient client, string model, string? version, string requestId)
    {
        request.HttpContext.Items[StartedKey] = time.GetTimestamp();
        var context = HttpEdge.ModelContext(request, model, version, requestId);
        await models.RunAsync(context, request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (context.Refusal is { } refused)
        {
            return await RefusedAsync(request, context, SubmitOperation, null, V2Results.RefusedOnModel(refused, context.RefusedAt, edge.Value.HideModelExistence)).ConfigureAwait(false);
        }

        IReadOnlyList<string> items;
        string? jobId;
        (string Stage, Refusal Refusal)? refusal;
        var limit = options.Value;
        var (held, busy) = Hold(context);
        if (busy is not null)
        {
            return await RefusedAsync(request, context, SubmitOperation, busy).ConfigureAwait(false);
        }

        using (held)
        {
            var stage = ReadStage;
            try
            {
                if (ReadRequest.MediaTypeRefusal(new IncomingBody(Stream.Null, null, request.ContentType, request.Headers.ContentEncoding.ToString() is { Length: > 0 } e ? e : null, null)) is { } unsupported)
                {
                    return await RefusedAsync(request, context, SubmitOperation, (ReadStage, unsupported)).ConfigureAwait(false);
                }

                if (!ReceiptRequested(request, out _))
                {
                    return await RefusedAsync(request, context, SubmitOperation, (ReadStage, Refusal.Invalid("x-audit-receipt must be ?1 or ?0"))).ConfigureAwait(false);
                }

                HttpEdge.AllowBody(request, (long)limit.MaxJobBytes + 1);
                var body = await HttpBodyReader.ReadLimitedAsync(Counted(request, held!), request.ContentLength, limit.MaxJobBytes, request.HttpContext.RequestAborted).ConfigureAwait(false);
                stage = SignatureStage;
                if (await signatures.CheckAsync(context, body, request.HttpContext.RequestAborted).ConfigureAwait(false) is { } unsigned)
                {
                    return await RefusedAsync(request, context, SubmitOperation, (SignatureStage, unsigned)).ConfigureAwait(false);
                }

                stage = ReadStage;
                items = JobItems.Split(body, limit.MaxItems, limits.MaxJsonDepth);
            }
            catch (RefusedException ex)
            {
                return await RefusedAsync(request, context, SubmitOperation, (stage, ex.Refusal)).ConfigureAwait(false);
            }

            // Within the caller's places, as the orchestrated infer path: the task-hub query and the chunk writes of one
            // caller's submissions run at most as many at once as its other requests may (they ran outside them, so
            // unbounded, before 2026-12-07; found in review).
            (jobId, refusal) = await StartAsync(request, client, context, items).ConfigureAwait(false);
        }

        if (refusal is not null)
        {
            return await RefusedAsync(request, context, SubmitOperation, refusal).ConfigureAwait(false);
        }

        // Prefer: wait=N — answer with the finished job's status (200) when it ends within N seconds.
        try
        {
            if (await WaitAsPreferredAsync(request, client, jobId!).ConfigureAwait(false) is { } finished)
            {
                var done = await StatusDocumentAsync(request, finished).ConfigureAwait(false);
                if (HeadersOf(done) is { } headers)
                {
                    headers["Location"] = StatusUrlOf(request, jobId!);
                }

                return WithDeprecation(done, context);
            }
        }
        catch (Exception ex) when (ScheduledThenFailed(ex, request))
        {
            // The job exists and runs: the caller gets its URL, never a 500 that a retry would answer with a second job.
            Log.AnsweredAcceptedAfterFailure(logger, jobId!, ex.GetType().Name);
            return WithDeprecation(Accepted(request, jobId!), context);
        }

        if (request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            // Gone during its wait: nobody was told the job's id.
            await WithdrawAsync(client, jobId!).ConfigureAwait(false);
            return V2Results.Refused(Refusal.Cancelled);
        }

        return WithDeprecation(Accepted(request, jobId!), context);
    }

    // The job once it has finished, if the request asked to wait (Prefer: wait=N, at most MaxPreferWait) and it finished
    // in time; otherwise null. The caller's going away ends the wait as well.
    private async Task<OrchestrationMetadata?> WaitAsPreferredAsync(HttpRequest request, DurableTaskClient client, string jobId)
    {
        if (PreferWait.Parse(request.Headers["Prefer"]) is not { } asked || asked <= TimeSpan.Zero)
        {
            return null;
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted);
        wait.CancelAfter(asked < options.Value.MaxPreferWait ? asked : options.Value.MaxPreferWait);
        try
        {
            return await WaitAsync(client, jobId, wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>POST /v2/models/{model}[/versions/{v}]/infer</c> for every model: a model whose policy says
    /// <c>execution: orchestrated</c> runs as a one-item job, answered like a sync request when it finishes within
    /// <see cref="JobOptions.OrchestratedWait"/>, else 202 with the job's URL; any other model, and any request the
    /// model check refuses, goes the inline path unchanged (which refuses and audits as always). A model known to be
    /// inline skips the check (its mode is remembered for the catalog's cache time, never across a new version).
    /// </summary>
    /// <summary>Runs the look-ahead for <paramref name="key"/> on the side (at most one at a time per key) and records the mode it finds.</summary>
    private void RefreshModeInBackground((string Model, string? Version) key, ModelRequestContext context)
    {
        if (!_refreshing.TryAdd(key, 0))
        {
            return;
        }

        context.LookAhead = true;
        _ = Task.Run(async () =>
        {
            try
            {
                await models.RunAsync(context, CancellationToken.None).ConfigureAwait(false);
                if (context.Refusal is null && context.Model is { } found)
                {
                    _modes[key] = (found.Policy.Execution, key.Version is null ? time.GetUtcNow() + catalogOptions.Value.LatestCacheTtl : DateTimeOffset.MaxValue);
                }
            }
            finally
            {
                _refreshing.TryRemove(key, out _);
            }
        });
    }

    public Task<IActionResult> InferAsync(HttpRequest request, DurableTaskClient client, string model, string? version)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var requestId = AuditRequestIds.New(auditSink.WriterId);
        return UntilTheCallerLeavesAsync(request, requestId, () => InferCoreAsync(request, client, model, version, requestId));
    }

    private async Task<IActionResult> InferCoreAsync(HttpRequest request, DurableTaskClient client, string model, string? version, string requestId)
    {
        request.HttpContext.Items[StartedKey] = time.GetTimestamp();
        var key = (model, version);
        if (_modes.TryGetValue(key, out var known) && known.Mode == ExecutionMode.Inline)
        {
            if (known.Until <= time.GetUtcNow())
            {
                // Stale: answer inline as last seen, and look again on the side, so a slow or stalled model store never
                // costs a request two resolves (the look-ahead's and the inline path's) in a row. A newly published
                // version that asks for orchestration is followed from the next request on.
                RefreshModeInBackground(key, HttpEdge.ModelContext(request, model, version));
            }

            return await gateway.InferAsync(request, model, version).ConfigureAwait(false);
        }

        // A look-ahead: a refusal here is answered by the inline path, which refuses, audits and raises any security
        // event itself, so this run raises none (one request, one event).
        var context = HttpEdge.ModelContext(request, model, version, requestId);
        context.LookAhead = true;
        await models.RunAsync(context, request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (context.Refusal is not null)
        {
            return await gateway.InferAsync(request, model, version).ConfigureAwait(false);
        }

        var mode = context.Model!.Policy.Execution;
        _modes[key] = (mode, version is null ? time.GetUtcNow() + catalogOptions.Value.LatestCacheTtl : DateTimeOffset.MaxValue);
        if (mode == ExecutionMode.Inline)
        {
            return await gateway.InferAsync(request, model, version).ConfigureAwait(false);
        }

        return WithDeprecation(await InferOrchestratedAsync(request, client, context).ConfigureAwait(false), context);
    }

    // A pinned deprecated version's answers carry its Deprecation and Sunset dates, whichever path served them.
    private static IActionResult WithDeprecation(IActionResult result, ModelRequestContext context)
    {
        if (HeadersOf(result) is { } headers)
        {
            HttpEdge.AddDeprecation(headers, context);
        }

        return result;
    }

    // The extra response headers of one of this app's answers.
    private static IDictionary<string, string>? HeadersOf(IActionResult result) => result switch
    {
        BodyResult body => body.Headers,
        JobStatusResult streamed => streamed.Headers,
        _ => null,
    };

    private async Task<IActionResult> InferOrchestratedAsync(HttpRequest request, DurableTaskClient client, ModelRequestContext context)
    {
        // Held to the end, as the inline path holds them while it runs: the request waits for its answer.
        var (held, busy) = Hold(context);
        if (busy is not null)
        {
            return await RefusedAsync(request, context, InferOperation, busy).ConfigureAwait(false);
        }

        using (held)
        {
            return await InferOrchestratedHeldAsync(request, client, context, held!).ConfigureAwait(false);
        }
    }

    private async Task<IActionResult> InferOrchestratedHeldAsync(HttpRequest request, DurableTaskClient client, ModelRequestContext context, Held held)
    {
        string item;
        var stage = ReadStage;
        try
        {
            if (ReadRequest.MediaTypeRefusal(new IncomingBody(Stream.Null, null, request.ContentType, request.Headers.ContentEncoding.ToString() is { Length: > 0 } e ? e : null, null)) is { } unsupported)
            {
                return await RefusedAsync(request, context, InferOperation, (ReadStage, unsupported)).ConfigureAwait(false);
            }

            if (!ReceiptRequested(request, out _))
            {
                return await RefusedAsync(request, context, InferOperation, (ReadStage, Refusal.Invalid("x-audit-receipt must be ?1 or ?0"))).ConfigureAwait(false);
            }

            if (request.Headers.ContainsKey(BodyResult.InferenceHeaderContentLength))
            {
                return await RefusedAsync(request, context, InferOperation, (ReadStage, Refusal.UnsupportedMediaType("an orchestrated model takes JSON requests (no binary tensor data)"))).ConfigureAwait(false);
            }

            var body = await HttpBodyReader.ReadLimitedAsync(Counted(request, held), request.ContentLength, limits.MaxBodyBytes, request.HttpContext.RequestAborted).ConfigureAwait(false);
            stage = SignatureStage;
            if (await signatures.CheckAsync(context, body, request.HttpContext.RequestAborted).ConfigureAwait(false) is { } unsigned)
            {
                return await RefusedAsync(request, context, InferOperation, (SignatureStage, unsigned)).ConfigureAwait(false);
            }

            // Refused as the inline path and a job submission refuse it: decoded as it is, an ill-formed byte would become
            // U+FFFD, and the job would run on other bytes than those the caller sent (and signed).
            if (!System.Text.Unicode.Utf8.IsValid(body))
            {
                return await RefusedAsync(request, context, InferOperation, (ReadStage, Refusal.Invalid("the body is not valid JSON (not UTF-8)"))).ConfigureAwait(false);
            }

            item = Encoding.UTF8.GetString(body);
        }
        catch (RefusedException ex)
        {
            return await RefusedAsync(request, context, InferOperation, (stage, ex.Refusal)).ConfigureAwait(false);
        }

        var (jobId, refusal) = await StartAsync(request, client, context, [item]).ConfigureAwait(false);

        // Nothing of the body is held past here: its count goes back now, not after the wait for the answer (which held
        // it for up to OrchestratedWait; review 2026-12-08). The places stay held to the end.
        held.Body.Dispose();
        if (refusal is not null)
        {
            return await RefusedAsync(request, context, InferOperation, refusal).ConfigureAwait(false);
        }

        try
        {
            return await OrchestratedAnswerAsync(request, client, jobId!, context.Model?.Policy.Padding).ConfigureAwait(false);
        }
        catch (Exception ex) when (ScheduledThenFailed(ex, request))
        {
            // The item runs (and may already be released and audited): the caller gets the job's URL to read it from.
            Log.AnsweredAcceptedAfterFailure(logger, jobId!, ex.GetType().Name);
            return Accepted(request, jobId!);
        }
    }

    // A failure after a job was scheduled, other than the caller leaving.
    private static bool ScheduledThenFailed(Exception ex, HttpRequest request) =>
        !(ex is OperationCanceledException && request.HttpContext.RequestAborted.IsCancellationRequested);

    // An orchestrated request's job once scheduled: its answer as a sync request's when it finishes within the wait.
    private async Task<IActionResult> OrchestratedAnswerAsync(HttpRequest request, DurableTaskClient client, string jobId, PaddingPolicy? padding)
    {
        OrchestrationMetadata? job = null;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted))
        {
            wait.CancelAfter(options.Value.OrchestratedWait);
            try
            {
                job = await WaitAsync(client, jobId, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
            {
                // Not finished within the wait: the caller gets the job instead.
            }
            catch (OperationCanceledException)
            {
                // The caller left during the wait of a request it sent as a sync one: it holds no job id.
                await WithdrawAsync(client, jobId).ConfigureAwait(false);
                return V2Results.Refused(Refusal.Cancelled);
            }
        }

        if (job?.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            return job?.RuntimeStatus == OrchestrationRuntimeStatus.Failed
                ? V2Results.Refused(Refusal.Unavailable("the request could not be completed"))
                : Accepted(request, jobId);
        }

        // Cancelled meanwhile, its one item has its result all the same once its chunk ran (released before the cancel
        // was seen, or refused as cancelled), as its audit record says.
        var output = job.ReadOutputAs<JobOutput>()!;
        if (output.Chunks.Count == 0)
        {
            return V2Results.Refused(Refusal.Cancelled);
        }

        ItemResult result;
        try
        {
            result = (await payloads.GetAsync<ItemResult[]>(output.Chunks[0], request.HttpContext.RequestAborted).ConfigureAwait(false))[0];
        }
        catch (PayloadIntegrityException ex)
        {
            Log.ResultsUnreadable(logger, jobId, TelemetryRedaction.Text(ex.Message));
            return V2Results.Refused(Refusal.Failed);
        }

        BodyResult answer;
        if (result.Response is { } released)
        {
            // Padded to the policy's size bucket, as the inline path's encode stage pads it (it went out at its own
            // length before 2026-12-07, telling which label won and how much redaction removed; found in review).
            var body = new EncodedBody(JsonSerializer.SerializeToUtf8Bytes(released), null, EncodedBody.JsonContentType);
            answer = V2Results.JsonBody((padding is null ? body : Core.Defenses.ResponsePadding.Pad(body, padding.Buckets)).Body);
        }
        else
        {
            var kind = Enum.GetValues<RefusalKind>().FirstOrDefault(k => new Refusal(k, "").KindName == result.Outcome, RefusalKind.Failed);
            // With its Retry-After (a daily budget spent: the next UTC day; storage unavailable: a second), as the inline
            // path answers it. Before 2026-12-07 it was dropped, so a client honouring it retried at once, or never.
            answer = V2Results.Refused(new Refusal(kind, result.Error ?? "") { RetryAfter = result.RetryAfter });
        }

        // The id of the item's audit record, as the inline path answers with its request's (none before 2026-12-08; review).
        answer.Headers[RequestIds.Header] = jobId + ".0";
        if (result.Receipt is { } receipt)
        {
            answer.Headers[AuditReceipt.HeaderName] = receipt;
        }

        return answer;
    }

    // The x-audit-receipt request header: false when it is there but not understood.
    private static bool ReceiptRequested(HttpRequest request, out bool requested) =>
        AuditReceipt.TryParseRequest(request.Headers.TryGetValue(AuditReceipt.HeaderName, out var value) ? value.ToString() : null, out requested);

    // The job once it has finished. In memory the backend tells the moment it does. Otherwise its state is polled,
    // 20 ms apart for the first second (a short job is seen within 20 ms of its end), then further apart up to 100 ms:
    // the Azure Storage provider's own wait looks every 2 s, which made a 300 ms job take two seconds to answer.
    private async Task<OrchestrationMetadata?> WaitAsync(DurableTaskClient client, string jobId, CancellationToken cancellationToken)
    {
        if (options.Value.Backend == JobBackend.InMemory)
        {
            return await client.WaitForInstanceCompletionAsync(jobId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        }

        var started = time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var job = await WaitEndedAsCancelled(client.GetInstanceAsync(jobId, getInputsAndOutputs: false, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (job?.RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated)
            {
                return await WaitEndedAsCancelled(client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            if (time.GetElapsedTime(started) > TimeSpan.FromSeconds(1))
            {
                delay = TimeSpan.FromMilliseconds(Math.Min(100, delay.TotalMilliseconds * 1.5));
            }
        }
    }

    /// <summary>
    /// A durable client call whose token ends the wait: the end as an <see cref="OperationCanceledException"/>, however the
    /// client reports it. The gRPC client (the Functions host's, and the standalone sidecar's) reports a token that fires
    /// during a call as <see cref="RpcException"/> with status <see cref="StatusCode.Cancelled"/>, which the waits' own
    /// handlers did not recognise: a wait that ended during a status call answered 500 instead of 202.
    /// </summary>
    internal static async Task<T> WaitEndedAsCancelled<T>(Task<T> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("the wait ended during a call to the durable backend", ex, cancellationToken);
        }
    }

    private const string SubmitOperation = "job-submit";
    private const string InferOperation = "infer";
    private const string ReadStage = "read";
    private const string SignatureStage = "signature";

    // Where a submission that storage or the durable backend failed is refused.
    private const string SubmitStage = "submit";

    private static readonly Refusal ThrottledJob = Refusal.RateLimited("too many requests; while throttled, send one item per job")
        with { Reason = "throttled", RetryAfter = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// A transient failure of storage or of the durable backend's client while the caller is still there (the chunk
    /// writes, the running-jobs query): as <see cref="TransientFailures.IsTransient"/> classifies storage's, and a gRPC
    /// call unavailable, past its deadline or aborted. A permanent fault (403 from a missing role assignment, a container
    /// that is not there, a gRPC call the backend refuses) and anything else stays a 500: answered 503 with Retry-After,
    /// it would be retried for ever.
    /// </summary>
    internal static bool IsTransientFailure(Exception exception, HttpRequest request) =>
        TransientFailures.IsTransientFailure(exception, request, BackendTransient);

    /// <summary>
    /// <see cref="IsTransientFailure"/> of <paramref name="exception"/>; a cancellation counts when
    /// <paramref name="callerLeft"/> has not fired: the storage client's own network timeout (each attempt's, thrown as a
    /// cancellation, or the retries' given up on them).
    /// </summary>
    internal static bool IsTransient(Exception exception, CancellationToken callerLeft) =>
        TransientFailures.IsTransient(exception, callerLeft, BackendTransient);

    private static bool BackendTransient(Exception exception) =>
        exception is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted };

    /// <summary>
    /// A submission (a <c>POST .../jobs</c>, or an orchestrated model's <c>/infer</c>) refused before its job exists, at
    /// <paramref name="refused"/>'s stage: answered, and audited as the inline path audits its refusals. One record
    /// (operation <paramref name="operation"/>) with the model checks' verdicts and the refusing stage's, for an
    /// authenticated caller; none for one that never authenticated, and a caller's repeated 429s go into its summary
    /// (<see cref="AuditRequest"/>). A receipt asked for comes back in <c>x-audit-receipt</c>. The refusal is answered
    /// whether or not its record could be committed: nothing is released either way.
    /// </summary>
    private Task<IActionResult> RefusedAsync(HttpRequest request, ModelRequestContext context, string operation, (string Stage, Refusal Refusal)? refused) =>
        RefusedAsync(request, context, operation, refused, V2Results.Refused(refused!.Value.Refusal));

    private async Task<IActionResult> RefusedAsync(HttpRequest request, ModelRequestContext context, string operation, (string Stage, Refusal Refusal)? refused, BodyResult answer)
    {
        if (refused is ("admit", _))
        {
            // Shed because the instance is full: not recorded one by one, as the inline path's admit stage (before it
            // knows the caller) records none; an overloaded instance is not made to append for each request it sheds.
            return answer;
        }

        // The request's own id (made with the writer's tag, so a receipt's proof is found from it): the one any security
        // event of the model checks names, and the one the caller gets in x-request-id.
        var record = new SubmissionRefusalContext(context.RequestId, context.ModelName, context.RequestedVersion, operation)
        {
            Caller = context.Caller,
            Model = context.Model,
            StartedTimestamp = request.HttpContext.Items.TryGetValue(StartedKey, out var started) && started is long at ? at : time.GetTimestamp(),
        };

        // The model checks' verdicts as the inline path records them (the misses' own bookkeeping is not a stage there).
        var verdicts = context.Verdicts.Where(v => v.Stage != "miss");
        if (refused is var (stage, refusal))
        {
            record.Restore([.. verdicts, new StageVerdict(stage, refusal.Verdict, 0)], refusal, stage);

            // A receipt only for a refusal once the request is read, as inline, where read is where a receipt is asked
            // for: one at the model checks would sign what the caller may not learn (a hidden model's name, a honey
            // caller's view), and one at the caller's limits would take its 429s out of their summary.
            ReceiptRequested(request, out var receipt);
            record.ReceiptRequested = receipt && stage is ReadStage or SignatureStage;
        }
        else
        {
            record.Restore(verdicts, context.Refusal, context.RefusedAt);
        }

        await refusals.RunAsync(record, request.HttpContext.RequestAborted).ConfigureAwait(false);
        answer.Headers[RequestIds.Header] = record.RequestId;
        if (record.Receipt is { } signed)
        {
            answer.Headers[AuditReceipt.HeaderName] = signed.Jws;
        }

        return answer;
    }

    // When the request came in (HttpContext.Items), for the latency of a refused submission's record.
    private const string StartedKey = "ServerlessServe.Jobs.Started";

    // A place among the instance's requests in flight and of the caller's concurrency on the model, taken before a body
    // is read: a submission reads up to MaxJobBytes and parses it, and without them one caller's parallel submissions
    // (or bodies trickled in slowly) could hold the instance's memory and CPU from every other caller. The inline path
    // takes the same places in its admit and limit stages, and counts the body's bytes against the caller's and the
    // instance's bytes in flight as it arrives (Counted).
    private (Held? Held, (string Stage, Refusal Refusal)? Refusal) Hold(ModelRequestContext context)
    {
        if (rateLimits.TryAdmit(out var admitted) is { } busy)
        {
            return (null, ("admit", busy));
        }

        var pseudonym = pseudonymizer.Pseudonymize(context.Caller!.Subject);
        if (rateLimits.TryHold(pseudonym, context.Model!.Manifest.Name, context.Model.Policy.Limits, out var place) is { } limited)
        {
            admitted!.Dispose();
            return (null, ("limit", limited));
        }

        return (new Held(admitted!, place!, rateLimits.ReserveBody(pseudonym)), null);
    }

    // The request's body, counted in the request's reservation as it arrives; once it is all here, thirteen times its
    // length besides (fourteen in all): a submission's body is parsed whole (JsonDocument keeps about 12 bytes a token,
    // `0,` a token of two characters: 6 a byte, in arrays that grow by doubling, the old one alive while copied) and each
    // item held as .NET text, two bytes a character, then written out again as the chunks' payloads (review 2026-12-08).
    private static CountedBodyStream Counted(HttpRequest request, Held held) =>
        new(HttpEdge.Body(request), held.Body, request.ContentLength, static length => 13 * length);

    private sealed class Held(IDisposable admitted, IDisposable place, BodyReservation body) : IDisposable
    {
        public BodyReservation Body => body;

        public void Dispose()
        {
            body.Dispose();
            place.Dispose();
            admitted.Dispose();
        }
    }

    // Schedules a job of <paramref name="items"/> for the caller and model of <paramref name="context"/> (authenticated,
    // resolved, authorized), after the running-jobs limit; its chunks go through the claim check.
    private async Task<(string? JobId, (string Stage, Refusal Refusal)? Refusal)> StartAsync(HttpRequest request, DurableTaskClient client, ModelRequestContext context, IReadOnlyList<string> items)
    {
        var limit = options.Value;
        ReceiptRequested(request, out var receipt);
        var caller = context.Caller!;
        var tag = CallerTag(caller.Subject);

        // The caller's submissions on this instance between the count and the schedule count as running: without that,
        // many sent at once all counted the same jobs and all started, past the limit.
        using var submitting = _submitting.Enter(tag);
        var tooMany = ("jobs", Refusal.RateLimited($"at most {limit.MaxRunningJobsPerCaller} jobs may run at once per caller") with { RetryAfter = TimeSpan.FromSeconds(5) });
        var pseudonym = pseudonymizer.Pseudonymize(caller.Subject);
        var model = context.Model!;

        // Each item is a request to the model's rate limit, as if sent on its own: a job is no way around the policy's
        // requestsPerSecond and burst. Taken at submission, where the caller can still be told, just before the schedule
        // (below); looked at before the running jobs are counted, as is the caller's last refusal for its running jobs,
        // so that a caller out of its rate, or at its limit of jobs, costs the task hub every caller's jobs share no
        // query (each such submission cost one before 2026-12-07; found in review).
        if (submitting.Others >= limit.MaxRunningJobsPerCaller || _full.IsFull(tag, time))
        {
            return (null, tooMany);
        }

        if (rateLimits.TooManyAtOnce(model.Policy.Limits, items.Count) is { } tooLarge)
        {
            return (null, ("limit", tooLarge));
        }

        // A throttle limits a caller's requests, and its contain stage took one for the submission: a job of many items
        // would be a way around it (review 2026-12-08: 6 submissions a minute of 1,000 items each). While throttled, a
        // caller sends its items one request at a time: 429 with the throttle's reason, and a message that says so (a
        // client retrying the same job every minute would be refused for as long as the throttle lasts).
        if (items.Count > 1 && containment.Standing(pseudonym).RequestsPerMinute is not null)
        {
            return (null, ("contain", ThrottledJob));
        }

        // Too few left: refused with when enough will be back, taking none. (Taken when the bucket had filled between
        // the look and the take, as before 2026-12-07, they were spent on a submission the running jobs then refused:
        // review.)
        if (!rateLimits.MayTake(pseudonym, model.Manifest.Name, model.Policy.Limits, items.Count))
        {
            var few = rateLimits.TooFewNow(pseudonym, model.Manifest.Name, model.Policy.Limits, items.Count);
            Log.JobRateLimited(logger, model.Manifest.Name, items.Count, few.Kind.ToString());
            return (null, ("limit", few));
        }

        int running;
        try
        {
            running = await RunningJobsAsync(client, tag, caller.Subject, limit.MaxRunningJobsPerCaller, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransientFailure(ex, request))
        {
            Log.RunningJobsNotCounted(logger, TelemetryRedaction.Exception(ex));
            return (null, (SubmitStage, TransientFailures.StorageUnavailable));
        }

        if (running + submitting.Others >= limit.MaxRunningJobsPerCaller)
        {
            _full.Refused(tag, time);
            return (null, tooMany);
        }

        var verified = context.Model!.Manifest;

        // The id starts with the caller's tag, so a caller's running jobs are one prefix query; the rest is random.
        var jobId = tag + RandomNumberGenerator.GetHexString(24, lowercase: true);
        var chunks = new List<Payload>();
        var share = payloads.ShareOf((items.Count + limit.ChunkSize - 1) / limit.ChunkSize);
        var scheduleSent = false;
        try
        {
            for (var start = 0; start < items.Count; start += limit.ChunkSize)
            {
                var chunk = Enumerable.Range(start, Math.Min(limit.ChunkSize, items.Count - start))
                    .Select(i => ItemState.Start(jobId, i, verified.Name, verified.Version, caller, items[i], receipt))
                    .ToArray();
                chunks.Add(await payloads.PutAsync(jobId, chunk, request.HttpContext.RequestAborted, share).ConfigureAwait(false));
            }

            // What runs beside it, here and on the other instances, sizes its first window: wider alone, shared with
            // the caller's other jobs beside another caller's.
            await board.RefreshIfStaleAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
            var around = traffic.Around(jobId);
            var input = new JobInput(jobId, verified.Name, verified.Version, caller.Subject, caller.Roles, items.Count, limit.ChunkSize, chunks, limit.ChunksInFlight, limit.ChunksInFlightAlone, around.Alone, around.CallerJobs, around.OtherCallers);

            // The items' requests are taken last before the schedule, so a submission that storage failed takes none of
            // the caller's rate (the bucket gives nothing back; before 2026-12-08 they were taken before the chunk writes
            // and spent on the failure). Its chunks, stored for nothing if others took them meanwhile, are deleted; the
            // job was never scheduled, so the task hub is not asked.
            if (rateLimits.TryTake(pseudonym, model.Manifest.Name, model.Policy.Limits, items.Count) is { } limited)
            {
                Log.JobRateLimited(logger, model.Manifest.Name, items.Count, limited.Kind.ToString());
                await DeleteChunksAsync(jobId, chunks).ConfigureAwait(false);
                return (null, ("limit", limited));
            }

            traffic.Saw(jobId, chunks.Count);
            scheduleSent = true;

            // Not cancelled when the caller leaves: a schedule call cut off on this side may still create the job on the
            // backend's, after the withdrawal looked for it and found nothing (it would then run for a caller who holds no
            // id). Finished, the job is there for the withdrawal to stop. Bounded on its own.
            using (var scheduling = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await client.ScheduleNewOrchestrationInstanceAsync(JobOrchestrator.Name, input.ToJson(), new StartOrchestrationOptions(jobId), scheduling.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Decided before the withdrawal, which may outlast the caller: storage or the backend failed transiently
            // before the schedule was sent. A failed schedule stays a 500 without Retry-After, as before: the backend may
            // still create the job after the withdrawal found nothing, and a retry would then run the items twice.
            var transient = !scheduleSent && IsTransientFailure(ex, request);

            // The caller left, or storage or the backend failed, part-way: chunks stored for a job that may never have
            // been scheduled (the purge deletes them only once older than the retention), or a job scheduled that nobody
            // was told of.
            await WithdrawAsync(client, jobId).ConfigureAwait(false);
            if (!transient && request.HttpContext.RequestAborted.IsCancellationRequested && ex is not OperationCanceledException)
            {
                // Whatever failed, nobody is there to answer: the caller's leaving, not an unhandled error in the log.
                throw new OperationCanceledException("the caller left while its submission failed", ex, request.HttpContext.RequestAborted);
            }

            if (!transient)
            {
                // A permanent fault, or the schedule call failed (the job may exist, and a retry could run its items
                // twice): 500 without Retry-After, recorded as the submission's refusal (the host's last resort answered
                // it before 2026-12-08, with no record and no request id; review).
                Log.SubmissionFailedPermanently(logger, jobId, scheduleSent, TelemetryRedaction.Exception(ex));
                return (null, (SubmitStage, Refusal.Failed));
            }

            // 503 with when to try again, recorded as the submission's refusal (a 500 with nothing to go on before
            // 2026-12-08). None of its rate was taken.
            Log.SubmissionFailed(logger, jobId, TelemetryRedaction.Exception(ex));
            return (null, (SubmitStage, TransientFailures.StorageUnavailable));
        }

        Log.JobSubmitted(logger, jobId, verified.Name, verified.Version, items.Count, chunks.Count, chunks.Count(c => c.IsReference));
        return (jobId, null);
    }

    private readonly Submissions _submitting = new();

    private readonly FullCallers _full = new();

    /// <summary>
    /// The callers refused for their running jobs on this instance in the last second, by tag: a submission of theirs
    /// meanwhile is refused as that one was, without asking the task hub again. Kept small: past 4,096 entries the ones
    /// whose second has passed are dropped.
    /// </summary>
    private sealed class FullCallers
    {
        private static readonly TimeSpan For = TimeSpan.FromSeconds(1);
        private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);

        public bool IsFull(string tag, TimeProvider time)
        {
            if (!_until.TryGetValue(tag, out var until))
            {
                return false;
            }

            if (until > time.GetUtcNow())
            {
                return true;
            }

            _until.TryRemove(KeyValuePair.Create(tag, until));
            return false;
        }

        public void Refused(string tag, TimeProvider time)
        {
            var now = time.GetUtcNow();
            if (_until.Count >= 4096)
            {
                foreach (var (key, until) in _until)
                {
                    if (until <= now)
                    {
                        _until.TryRemove(KeyValuePair.Create(key, until));
                    }
                }
            }

            _until[tag] = now + For;
        }
    }

    /// <summary>
    /// Each caller's job submissions in progress on this instance (from the running-jobs count until the job is
    /// scheduled or refused), by caller tag; a caller is kept only while one is in progress.
    /// </summary>
    private sealed class Submissions
    {
        private readonly Dictionary<string, int> _inProgress = new(StringComparer.Ordinal);

        /// <summary>Counts one more for <paramref name="tag"/>; <see cref="Entered.Others"/> is how many were already in progress.</summary>
        public Entered Enter(string tag)
        {
            lock (_inProgress)
            {
                _inProgress.TryGetValue(tag, out var others);
                _inProgress[tag] = others + 1;
                return new Entered(this, tag, others);
            }
        }

        private void Leave(string tag)
        {
            lock (_inProgress)
            {
                if (_inProgress[tag] == 1)
                {
                    _inProgress.Remove(tag);
                }
                else
                {
                    _inProgress[tag]--;
                }
            }
        }

        public readonly struct Entered(Submissions owner, string tag, int others) : IDisposable
        {
            public int Others => others;

            public void Dispose() => owner.Leave(tag);
        }
    }

    private BodyResult Accepted(HttpRequest request, string jobId)
    {
        var statusUrl = StatusUrlOf(request, jobId);
        var result = V2Results.JsonBody(Write(w =>
        {
            w.WriteString("id", jobId);
            w.WriteString("status", "pending");
            w.WriteString("status_url", statusUrl);
        }), 202);
        result.Headers["Location"] = statusUrl;
        return result;
    }

    /// <summary>
    /// <c>GET /jobs/{id}</c>: status, progress, and per-item results once completed. With <c>Prefer: wait=N</c> a job
    /// still running is waited for, up to N seconds (at most <see cref="JobOptions.MaxPreferWait"/>).
    /// </summary>
    public Task<IActionResult> StatusAsync(HttpRequest request, DurableTaskClient client, string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        var requestId = RequestIds.New();
        return UntilTheCallerLeavesAsync(request, requestId, () => StatusCoreAsync(request, client, id, requestId), retryable: true);
    }

    private async Task<IActionResult> StatusCoreAsync(HttpRequest request, DurableTaskClient client, string id, string requestId)
    {
        var (job, refusal, lease) = await FindAsync(request, client, id, requestId).ConfigureAwait(false);
        if (job is null)
        {
            lease?.Dispose();
            return refusal!;
        }

        try
        {
            // Prefer: wait=N — hold the answer until the job has finished, or N seconds have passed.
            if (IsActive(job) && await WaitAsPreferredAsync(request, client, id).ConfigureAwait(false) is { } finished)
            {
                job = finished;
            }
        }
        catch
        {
            lease?.Dispose();
            throw;
        }

        // The status document gives the caller's place back once it is written.
        return await StatusDocumentAsync(request, job, lease).ConfigureAwait(false);
    }

    // The job's status document. A finished job's results are written as they are read (JobStatusResult), holding
    // lease (the caller's place in its job-route limits, if any) until the last byte; any other answer gives it back.
    private async Task<IActionResult> StatusDocumentAsync(HttpRequest request, OrchestrationMetadata job, IDisposable? lease = null)
    {
        // Every path gives the caller's place back, a state or output that does not parse included (such a read kept it
        // for good, 16 of them the caller's route; found in review 2026-12-07), except the one handed to the answer.
        try
        {
            var id = job.InstanceId;
            var input = JobInput.Parse(job.ReadInputAs<string>());
            var progress = job.SerializedCustomStatus is { Length: > 0 } ? job.ReadCustomStatusAs<JobProgress>() : null;
            var output = job.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? job.ReadOutputAs<JobOutput>() : null;
            void Head(Utf8JsonWriter w)
            {
                w.WriteString("id", id);
                w.WriteString("status", StatusName(job.RuntimeStatus, output, progress));
                w.WriteString("model_name", input.Model);
                w.WriteString("model_version", input.Version);
                w.WriteNumber("items", input.Items);
                w.WriteNumber("done", output?.Items ?? progress?.Done ?? 0);
            }

            // A cancelled job has the results of the chunks it started (released before the cancel was seen, or refused);
            // one that returned none (ended before 2026-12-08) and a job not finished have only the head.
            if (output is null || (output.Cancelled && output.Chunks.Count == 0))
            {
                return V2Results.JsonBody(Write(Head));
            }

            ItemResult[] first;
            try
            {
                // The first chunk is read before anything is sent: missing or altered results are never served, and the
                // caller learns only that they cannot be.
                first = output.Chunks.Count == 0 ? [] : await payloads.GetAsync<ItemResult[]>(output.Chunks[0], request.HttpContext.RequestAborted).ConfigureAwait(false);
            }
            catch (PayloadIntegrityException ex)
            {
                Log.ResultsUnreadable(logger, id, TelemetryRedaction.Text(ex.Message));
                return V2Results.Refused(Refusal.Failed);
            }

            var expires = (job.LastUpdatedAt + options.Value.ResultRetention).ToString("O", CultureInfo.InvariantCulture);
            var answer = new JobStatusResult(
                w =>
                {
                    Head(w);
                    w.WriteString("expires", expires);
                },
                first,
                [.. output.Chunks.Skip(1)],
                payloads,
                lease,
                logger,
                id);
            lease = null;
            return answer;
        }
        finally
        {
            lease?.Dispose();
        }
    }

    /// <summary><c>DELETE /jobs/{id}</c>: stops a job that is still running.</summary>
    public Task<IActionResult> CancelAsync(HttpRequest request, DurableTaskClient client, string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        var requestId = RequestIds.New();
        return UntilTheCallerLeavesAsync(request, requestId, () => CancelCoreAsync(request, client, id, requestId), retryable: true);
    }

    private async Task<IActionResult> CancelCoreAsync(HttpRequest request, DurableTaskClient client, string id, string requestId)
    {
        var (job, refusal, lease) = await FindAsync(request, client, id, requestId).ConfigureAwait(false);
        using var place = lease;
        if (job is null)
        {
            return refusal!;
        }

        var status = IsActive(job)
            ? await StopAsync(client, job, "cancelled by its caller", request.HttpContext.RequestAborted).ConfigureAwait(false)
            : StatusName(job.RuntimeStatus, job.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? job.ReadOutputAs<JobOutput>() : null, null);
        var result = V2Results.JsonBody(Write(w =>
        {
            w.WriteString("id", id);
            w.WriteString("status", status);
        }), 202);
        result.Headers["Location"] = StatusUrlOf(request, id);
        return result;
    }

    /// <summary>
    /// A submission whose caller left before it was answered, or that failed part-way, is withdrawn: nobody holds its
    /// id, so nobody could read its results or cancel it, and a retry would run it twice. A job the backend knows of and
    /// that is still active is stopped as a caller's cancel stops it (its chunks in flight audited; the job is purged
    /// with its payloads after its retention); one the backend never scheduled has its stored chunks
    /// deleted. Bounded to 10 s and never thrown: when the backend cannot be reached it is logged (8010).
    /// </summary>
    private async Task WithdrawAsync(DurableTaskClient client, string jobId)
    {
        traffic.Ended(jobId);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var job = await client.GetInstanceAsync(jobId, getInputsAndOutputs: false, bound.Token).ConfigureAwait(false);
            if (job is null)
            {
                var blobs = await payloads.DeleteJobAsync(jobId, bound.Token).ConfigureAwait(false);
                Log.JobWithdrawn(logger, jobId, $"never scheduled; {blobs} stored chunk(s) deleted");
            }
            else if (IsActive(job))
            {
                Log.JobWithdrawn(logger, jobId, await StopAsync(client, job, "withdrawn: its caller left before it was answered", bound.Token).ConfigureAwait(false));
            }
        }
#pragma warning disable CA1031 // Withdrawing is best effort after the request has already ended; the reason goes to the log.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.JobNotWithdrawn(logger, jobId, TelemetryRedaction.Exception(ex));
        }
    }

    // The chunks stored for a submission refused before its schedule, bounded; what is left the purge deletes.
    private async Task DeleteChunksAsync(string jobId, List<Payload> chunks)
    {
        traffic.Ended(jobId);
        if (!chunks.Any(c => c.IsReference))
        {
            return;
        }

        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            Log.JobChunksDeleted(logger, jobId, await payloads.DeleteJobAsync(jobId, bound.Token).ConfigureAwait(false));
        }
#pragma warning disable CA1031 // Best effort: the purge deletes stored chunks of a job never scheduled once older than the retention.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.JobChunksNotDeleted(logger, jobId, TelemetryRedaction.Exception(ex));
        }
    }

    /// <summary>
    /// A jobs route's answer, or 499 (nothing reaches a caller that has gone) when its caller left while it was being
    /// made. The durable client's gRPC channel reports a token that fires during a call as <see cref="RpcException"/>
    /// with <see cref="StatusCode.Cancelled"/>; without this, every such call would be an unhandled error in the log.
    /// Every answer names its request in <c>x-request-id</c>: the id of the record it audited where one was (a refused
    /// submission's, an orchestrated item's), otherwise <paramref name="requestId"/>, the request's own, which any security
    /// event of its caller checks names (status, cancel and accepted submissions had none before 2026-12-08; review).
    /// <para>
    /// Any other failure is answered here too, never by the host's last resort (which names no request): 500
    /// <c>internal error</c>, logged (8024) under the request's id; on the status and cancel routes
    /// (<paramref name="retryable"/>, which a retry cannot harm) a transient failure of storage or the durable backend is
    /// 503 with <c>Retry-After</c> instead. A submission's failures are answered and audited where they happen
    /// (<c>StartAsync</c>); one that still reaches here (the running-jobs count failing permanently) stays 500.
    /// </para>
    /// </summary>
    private async Task<IActionResult> UntilTheCallerLeavesAsync(HttpRequest request, string requestId, Func<Task<IActionResult>> answer, bool retryable = false)
    {
        // Every jobs route, and infer's look-ahead: never under the caller's trace context (the inline infer path opens
        // a span of its own, equally detached).
        ServingTelemetry.DetachFromCaller();
        var aborted = request.HttpContext.RequestAborted;
        IActionResult answered;
        try
        {
            answered = await answer().ConfigureAwait(false);
        }
        catch (Exception ex) when (aborted.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled } or IOException)
        {
            Log.CallerLeft(logger, request.Method, ex.GetType().Name);
            answered = V2Results.Refused(Refusal.Cancelled);
        }
#pragma warning disable CA1031 // The route's answer to any failure: a refusal naming its request, the failure logged.
        catch (Exception ex) when (!aborted.IsCancellationRequested)
#pragma warning restore CA1031
        {
            var transient = retryable && IsTransientFailure(ex, request);
            Log.RouteFailed(logger, request.Method, requestId, transient ? 503 : 500, TelemetryRedaction.Exception(ex));
            answered = V2Results.Refused(transient ? TransientFailures.StorageUnavailable : Refusal.Failed);
        }

        HeadersOf(answered)?.TryAdd(RequestIds.Header, requestId);
        return answered;
    }

    /// <summary>
    /// Each caller's limits on the job routes (status and cancel), per instance: 50 requests a second after a burst of
    /// 200, 16 at once. A status request reads the job's instance and, once it has finished, every chunk of its results
    /// from storage, and with <c>Prefer: wait</c> holds its place while it waits; an id with the caller's own tag costs a
    /// storage read even when no such job exists. Polling each of <see cref="JobOptions.MaxRunningJobsPerCaller"/> jobs
    /// several times a second, or waiting on all of them at once, is within it; past it, 429 with <c>Retry-After</c>.
    /// </summary>
    public static LimitsPolicy StatusLimits { get; } = new() { RequestsPerSecond = 50, Burst = 200, Concurrency = 16 };

    // The limiters' key for these routes: not a model name (those are lowercase letters, digits, '.', '_' and '-').
    private const string StatusRouteKey = "(job status)";

    // The caller's job named by id, or the refusal to answer; the place taken in the caller's limits on the job routes
    // (disposed by the caller of this method once it has answered).
    private async Task<(OrchestrationMetadata? Job, IActionResult? Refusal, IDisposable? Lease)> FindAsync(HttpRequest request, DurableTaskClient client, string id, string requestId)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var context = new JobRequestContext(requestId) { Authorization = request.Headers.Authorization.ToString() };
        await callers.RunAsync(context, request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (context.Refusal is { } refused)
        {
            return (null, V2Results.Refused(refused), null);
        }

        if (rateLimits.TryAcquire(pseudonymizer.Pseudonymize(context.Caller!.Subject), StatusRouteKey, StatusLimits, out var lease) is { } limited)
        {
            return (null, V2Results.Refused(limited), null);
        }

        var notFound = V2Results.Refused(Refusal.NotFound("no such job"));
        if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
        {
            return (null, notFound, lease);
        }

        // Another caller's job answers exactly like a job that does not exist; so does one past its retention.
        if (!id.StartsWith(CallerTag(context.Caller!.Subject), StringComparison.Ordinal))
        {
            return (null, notFound, lease);
        }

        try
        {
            var job = await client.GetInstanceAsync(id, getInputsAndOutputs: true, request.HttpContext.RequestAborted).ConfigureAwait(false);
            if (job is null || JobInput.Parse(job.ReadInputAs<string>()).CallerSubject != context.Caller!.Subject)
            {
                return (null, notFound, lease);
            }

            return IsExpired(job, options.Value.ResultRetention, time.GetUtcNow()) ? (null, notFound, lease) : (job, null, lease);
        }
        catch
        {
            lease!.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stops an active job by sending it <see cref="JobOrchestrator.CancelEvent"/> (<c>cancelling</c>), pending or
    /// running: it starts no more chunks, and its chunks in flight are audited, their items refused as cancelled, before
    /// it ends <c>cancelled</c>. Terminating it instead would leave the items its model already ran on, or that
    /// validate had charged, without their audit record; and a job read as pending may already be running (a pending
    /// job waits for the event from its start, so it sees it after its first window's validate step).
    /// </summary>
    private static async Task<string> StopAsync(DurableTaskClient client, OrchestrationMetadata job, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await client.RaiseEventAsync(job.InstanceId, JobOrchestrator.CancelEvent, reason, cancellationToken).ConfigureAwait(false);
            return "cancelling";
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            // It ended between the look and the event (the Functions host's client refuses an event to an ended
            // instance): what it ended as.
            var now = await client.GetInstanceAsync(job.InstanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
            if (now is null || IsActive(now))
            {
                throw;
            }

            return StatusName(now.RuntimeStatus, now.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? now.ReadOutputAs<JobOutput>() : null, null);
        }
    }

    // Pending (scheduled, not started yet) is cancelled too: terminating it stops it before its first step.
    private static bool IsActive(OrchestrationMetadata job) =>
        job.RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;

    /// <summary>A finished job whose retention has passed: it answers 404, and the purge removes it.</summary>
    public static bool IsExpired(OrchestrationMetadata job, TimeSpan retention, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated
            && job.LastUpdatedAt + retention <= now;
    }

    /// <summary>
    /// The first 8 hex digits of the caller's pseudonym (keyed, as in the audit log): the prefix of every job id it
    /// submits. Job ids go to logs, <c>Location</c> URLs and the task hub's instance ids; an unkeyed hash of the subject
    /// there (as before 2026-12-06) let anyone holding a candidate subject, an e-mail or object id, confirm it offline.
    /// </summary>
    public string CallerTag(string subject) => pseudonymizer.Pseudonymize(subject)[..8];

    private static async Task<int> RunningJobsAsync(DurableTaskClient client, string tag, string subject, int limit, CancellationToken cancellationToken)
    {
        var query = new OrchestrationQuery
        {
            InstanceIdPrefix = tag,
            Statuses = [OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running],
            FetchInputsAndOutputs = true,
            PageSize = 100,
        };
        var running = 0;
        await foreach (var job in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            // The tag is short; another caller with the same tag does not count against this one. A job being
            // cancelled no longer counts: it starts nothing more, and its caller cancelled it to make room.
            if (job.SerializedCustomStatus is { Length: > 0 } && job.ReadCustomStatusAs<JobProgress>() is { Cancelling: true })
            {
                continue;
            }

            if (JobInput.Parse(job.ReadInputAs<string>()).CallerSubject == subject && ++running >= limit)
            {
                break;
            }
        }

        return running;
    }

    /// <summary>
    /// The job's status URL, under the route prefix the request itself came in by (<c>extensions.http.routePrefix</c>
    /// in host.json: <c>api</c> by default, but an operator may set another or none). Every jobs route starts with
    /// <c>v2/models/</c> or <c>jobs/</c> after the prefix, and no model name or job id holds a <c>/</c>, so the last
    /// such segment in the path is where the route begins. Its scheme and authority are <paramref name="publicBaseUrl"/>'s
    /// when set (<c>ServerlessServe:Signatures:PublicBaseUrl</c>, where callers send their requests: behind Front Door or
    /// API Management the app sees the origin's host, which callers may not be able to reach), otherwise the request's
    /// own scheme and <c>Host</c>.
    /// </summary>
    internal static string StatusUrl(HttpRequest request, string jobId, Uri? publicBaseUrl = null) =>
        $"{(publicBaseUrl is { } origin ? origin.GetLeftPart(UriPartial.Authority) : $"{request.Scheme}://{request.Host}")}{request.PathBase}{RoutePrefix(request.Path.Value)}/jobs/{jobId}";

    private string StatusUrlOf(HttpRequest request, string jobId) => StatusUrl(request, jobId, publicOrigin.Value.PublicBaseUrl);

    internal static string RoutePrefix(string? path)
    {
        // Routes match whatever the case ("/api/V2/models/…" is served), so the search ignores it too: matched as written
        // it missed, and the status URL lost its prefix (found in review 2026-12-07).
        path ??= string.Empty;
        var route = path.LastIndexOf("/v2/models/", StringComparison.OrdinalIgnoreCase);
        if (route < 0)
        {
            route = path.LastIndexOf("/jobs/", StringComparison.OrdinalIgnoreCase);
        }

        return route > 0 ? path[..route] : string.Empty;
    }

    private static string StatusName(OrchestrationRuntimeStatus status, JobOutput? output, JobProgress? progress) => status switch
    {
        OrchestrationRuntimeStatus.Pending => "pending",
        OrchestrationRuntimeStatus.Completed when output is { Cancelled: true } => "cancelled",
        OrchestrationRuntimeStatus.Running when progress is { Cancelling: true } => "cancelling",
        OrchestrationRuntimeStatus.Completed => "completed",
        OrchestrationRuntimeStatus.Failed => "failed",
        OrchestrationRuntimeStatus.Terminated => "cancelled",
        _ => "running",
    };

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
