using System.Text;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Jobs;

/// <summary>
/// The job path's activities, each a few lines over the sync path's stage types. An activity takes a chunk of a job's
/// items (<see cref="ChunkStep"/>), runs its own pipeline on each item (a context rebuilt from the item's plain
/// values) and returns the chunk's new values. Activities run at least once; each is a pure function of its input and
/// immutable state, except audit (one record per job item, however often it runs; see docs/design.md, "Jobs").
/// </summary>
public sealed class JobActivities(
    StagePipeline<ValidateItemContext> validate,
    StagePipeline<InferItemContext> infer,
    StagePipeline<RedactItemContext> redact,
    StagePipeline<AuditItemContext> audit,
    IModelCatalog catalog,
    AuditReceipts receipts,
    ReceiptCommits commits,
    IAuditSink sink,
    PayloadStore payloads,
    ProtocolLimits limits,
    JobTraffic traffic,
    IOptions<JobOptions> options,
    ContainmentRegistry containment,
    IOptions<ContainmentOptions> containmentOptions,
    AuditReceiptIndex? receiptIndex = null)
{
    public const string Validate = "ValidateItems";
    public const string Infer = "InferItems";
    public const string Redact = "RedactItems";
    public const string Audit = "AuditItems";
    public const string GiveUp = "GiveUpItems";

    /// <summary>
    /// contain → resolve → authorize → read → validate → budget → screen, for each item of the chunk (contain: a caller
    /// blocked or revoked since submitting gets the remaining items refused; <see cref="ContainJobItems"/>). budget charges the item's
    /// elements to the caller's daily budget on the model, as for a sync request: an item past it is refused alone (429
    /// daily budget spent). The one effect of this activity that is not pure: a rerun charges again, so a caller can be
    /// refused early by what a crashed attempt charged, never served past the budget.
    /// </summary>
    /// <remarks>
    /// A containment view unread or stale is the step's outage, not the items': checked first, before any budget is
    /// charged, it fails the step, and the orchestration tries it again (then gives up, <see cref="GiveUpAsync"/>).
    /// Before 2026-12-07 each item was refused for good, so an instance whose first read was slow refused a whole chunk
    /// that infer and redact would have waited out (found in review). An outage met by one item once items run (the
    /// catalog, the budget store) still refuses that item alone: items run side by side, so a retry of the step would
    /// charge again every item already charged.
    /// </remarks>
    public async Task<ChunkStep> ValidateAsync(ChunkStep chunk, CancellationToken cancellationToken = default)
    {
        await QuarantinesKnownAsync(cancellationToken).ConfigureAwait(false);
        return await EachAsync(chunk, Validate, options.Value.InferConcurrency, _ => true, ValidateItemAsync, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// infer: the inference app, with the service token, for each item not refused yet (several at once). A transient
    /// failure (unreachable, timed out, 5xx, 429) leaves the item pending, and the orchestration calls this again
    /// after a back-off; a refusal of the input (400, 413) is the item's answer and is never retried.
    /// </summary>
    public async Task<ChunkStep> InferAsync(ChunkStep chunk, CancellationToken cancellationToken = default)
    {
        await QuarantinesKnownAsync(cancellationToken).ConfigureAwait(false);
        return await EachAsync(chunk, Infer, options.Value.InferConcurrency, i => i.RefusalKind is null && i.Inferred is null, InferItemAsync, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Before a step resolves its items' version again: this instance's containment view (the model quarantines and
    /// revoked signers among it) has been read and is current, else the step fails and the orchestration retries it.
    /// The catalog takes an unread view for "nothing quarantined", so an infer step on a freshly started instance
    /// could otherwise run a version quarantined since the job's validate step (the sync path refuses in its contain
    /// stage, found in review 2026-12-06).
    /// </summary>
    private async Task QuarantinesKnownAsync(CancellationToken cancellationToken)
    {
        if (!await containment.IsCurrentAsync(containmentOptions.Value, cancellationToken).ConfigureAwait(false))
        {
            throw new TransientStepException("containment view not read or stale; the orchestration retries");
        }
    }

    /// <summary>
    /// redact: the policy's hardening and PII redaction of each response; an item whose inference never succeeded is
    /// refused as unavailable. In a cancelled job (<see cref="ChunkStep.Cancelled"/>) every item not refused yet is
    /// refused as cancelled instead, at infer when it was not inferred, at redact when it was (its output is never
    /// released, so it is not redacted, and its record says <c>cancelled</c>, not <c>released</c>): either way it goes
    /// to the audit step with its verdicts.
    /// </summary>
    public async Task<ChunkStep> RedactAsync(ChunkStep chunk, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        await QuarantinesKnownAsync(cancellationToken).ConfigureAwait(false);
        return await EachAsync(
            chunk,
            Redact,
            options.Value.InferConcurrency,
            i => i.RefusalKind is null,
            (item, token) => chunk.Cancelled ? Task.FromResult(Cancelled(item)) : RedactItemAsync(item, token),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// give up: after a step (validate, infer or redact) failed on every attempt (storage, the catalog or the
    /// containment view unavailable for longer than its retries), each of the chunk's items not refused yet is refused
    /// there as unavailable, so that the audit step still records every item once and nothing is released. Before
    /// 2026-12-07 the job failed at once: the chunk's items, charged and perhaps already run by the model, and those of
    /// its sibling chunks had no audit record (found in review).
    /// </summary>
    public Task<ChunkStep> GiveUpAsync(ChunkStep chunk, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var stage = chunk.GaveUpAt switch
        {
            Validate => "validate",
            Infer => "infer",
            _ => "redact",
        };
        // A cancelled job's items are refused as cancelled, as its redact step would have refused them. An item inferred
        // before a later try of the infer step failed has its infer verdict: it is refused at redact, its output never
        // released (given a second infer verdict, as before 2026-12-07, its record could never be built, and the audit
        // step failed the job on every attempt: review).
        return EachAsync(
            chunk,
            GiveUp,
            1,
            i => i.RefusalKind is null,
            (item, _) => Task.FromResult(chunk.Cancelled ? Cancelled(item, stage == "validate" ? stage : null) : GaveUp(item, stage == "infer" && item.Inferred is not null ? "redact" : stage)),
            cancellationToken);
    }

    /// <summary>The verdicts and refusal of an item whose step failed on every attempt (<see cref="GiveUpAsync"/>).</summary>
    public static ItemState GaveUp(ItemState item, string stage)
    {
        ArgumentNullException.ThrowIfNull(item);
        var refusal = Refusal.Unavailable("service unavailable; submit the item again later");
        return item with
        {
            Verdicts = [.. item.Verdicts, new StageVerdict(stage, refusal.Verdict, 0)],
            RefusalKind = refusal.Kind,
            RefusalMessage = refusal.Message,
            RefusedAt = stage,
            InferPending = false,
        };
    }

    /// <summary>
    /// audit: each item's one record, with every stage's verdict, whatever the outcome — exactly once however often
    /// the activity runs (<see cref="AuditReceipts"/>, keyed by job and chunk; an interrupted attempt appends only the
    /// records the chains do not hold). A record that cannot be committed throws, so the orchestration retries; the
    /// job never completes with an item unaudited. Returns the chunk's results (an array of <see cref="ItemResult"/>).
    /// </summary>
    public async Task<ChunkStep> AuditAsync(ChunkStep chunk, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        traffic.Saw(chunk.JobId, chunk.Chunks);
        var items = await payloads.GetAsync<ItemState[]>(chunk.Items, cancellationToken).ConfigureAwait(false);
        var key = $"{chunk.JobId}.c{chunk.Chunk}";
        // The key is held until this run's records are committed and its results stored: a second run of the same step
        // (delivered twice after a crash, both at once) waits, then finds the records instead of appending them again.
        var attempt = await receipts.BeginAsync(key, cancellationToken).ConfigureAwait(false);
        await using var held = attempt.ConfigureAwait(false);
        // The key is renewed while this runs; should it be lost (its lease broken, or lapsed in a long storage outage
        // and taken by another run), this run stops before appending more, and the orchestration's retry looks in the
        // chains for what either run appended.
        using var keyHeld = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attempt.Lost);
        cancellationToken = keyHeld.Token;
        var (state, since) = attempt;
        var signed = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        // What an earlier attempt committed (an interrupted one: any of the chunk's records; a committed one: those a
        // receipt is asked of), read in one pass over the chains written since it began.
        var lookFor = state switch
        {
            ReceiptState.Interrupted => items.Select(i => i.RequestId).ToList(),
            ReceiptState.Committed => items.Where(i => i.ReceiptRequested).Select(i => i.RequestId).ToList(),
            _ => [],
        };
        var present = lookFor.Count > 0
            ? await receipts.FindRecordsAsync(lookFor, InferenceContext.JobOperation, since, cancellationToken).ConfigureAwait(false)
            : new Dictionary<string, AuditRecord>();
        if (state != ReceiptState.Committed)
        {

            // Side by side, so the audit sink commits them in few appends; each record is its own, in any order.
            await Task.WhenAll(items.Where(i => !present.ContainsKey(i.RequestId)).Select(async i =>
            {
                if (await AuditItemAsync(i, cancellationToken).ConfigureAwait(false) is { } receipt)
                {
                    signed[i.RequestId] = receipt.Jws;
                }
            })).ConfigureAwait(false);

            // The committed marker is written while the orchestration moves on: it only spares a re-run the look into
            // the chains (ReceiptCommits).
            commits.Start(key);
        }

        // Receipts asked for of records an earlier attempt committed: signed from the records as found in the chains.
        foreach (var item in items.Where(i => i.ReceiptRequested && !signed.ContainsKey(i.RequestId)))
        {
            if (present.TryGetValue(item.RequestId, out var record))
            {
                // Indexed too: the attempt that committed it may have stopped before its own index write.
                var receipt = sink.SignReceipt(record);
                receiptIndex?.Remember(receipt);
                signed[item.RequestId] = receipt.Jws;
            }
        }

        var results = items.Select(i => JobResults.For(i, signed.GetValueOrDefault(i.RequestId))).ToArray();
        // The job's output holds every chunk's results: each chunk keeps to its share of what may be inline.
        var stored = await payloads.PutAsync(chunk.JobId, results, cancellationToken, payloads.ShareOf(chunk.Chunks)).ConfigureAwait(false);
        if (chunk.Cancelled)
        {
            // A cancelled job audits only its chunks in flight: it no longer counts beside the others.
            traffic.Ended(chunk.JobId);
        }
        else
        {
            traffic.Audited(chunk.JobId, chunk.Chunk, chunk.Chunks);
        }

        var around = traffic.Around(chunk.JobId);
        return chunk with { Step = Audit, Items = stored, InferPending = 0, Alone = around.Alone, CallerJobs = around.CallerJobs, OtherCallers = around.OtherCallers };
    }

    private async Task<ChunkStep> EachAsync(
        ChunkStep chunk,
        string step,
        int concurrency,
        Func<ItemState, bool> applies,
        Func<ItemState, CancellationToken, Task<ItemState>> run,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        traffic.Saw(chunk.JobId, chunk.Chunks);
        var items = await payloads.GetAsync<ItemState[]>(chunk.Items, cancellationToken).ConfigureAwait(false);
        var todo = Enumerable.Range(0, items.Length).Where(i => applies(items[i])).ToList();
        if (concurrency <= 1)
        {
            foreach (var i in todo)
            {
                items[i] = await run(items[i], cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await Parallel.ForEachAsync(
                todo,
                new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (i, token) => items[i] = await run(items[i], token).ConfigureAwait(false)).ConfigureAwait(false);
        }

        var stored = await payloads.PutAsync(chunk.JobId, items, cancellationToken).ConfigureAwait(false);
        return chunk with { Step = step, Items = stored, InferPending = items.Count(i => i.InferPending) };
    }

    private async Task<ItemState> ValidateItemAsync(ItemState item, CancellationToken cancellationToken)
    {
        var context = Rebuild(new ValidateItemContext(item.RequestId, item.Model, item.Version), item);
        var body = Encoding.UTF8.GetBytes(item.Request);
        context.Body = new IncomingBody(new MemoryStream(body), body.Length, "application/json", null, null);
        try
        {
            await validate.RunAsync(context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            context.ReleaseBody();
            context.ReleaseTensors();
        }

        return Next(item, context);
    }

    private async Task<ItemState> InferItemAsync(ItemState item, CancellationToken cancellationToken)
    {
        var context = await RehydrateAsync(new InferItemContext(item.RequestId, item.Model, item.Version), item, "infer", cancellationToken).ConfigureAwait(false);
        if (context.Refusal is not null)
        {
            return Next(item, context) with { InferPending = false };
        }

        await infer.RunAsync(context, cancellationToken).ConfigureAwait(false);
        // Unavailable or rate-limited is tried again by the orchestration, unless the refusal concerns only the version
        // (Refusal.VersionScoped): then it is this item's answer.
        if (context.RefusedAt == "infer" && context.Refusal is { Kind: RefusalKind.Unavailable or RefusalKind.RateLimited, VersionScoped: false })
        {
            return item with { InferPending = true };
        }

        var inferred = context.Refusal is null ? Encode(context, context.Inferred) : null;
        return Next(item, context) with { Inferred = inferred, InferPending = false };
    }

    private async Task<ItemState> RedactItemAsync(ItemState item, CancellationToken cancellationToken)
    {
        if (item.InferPending)
        {
            return InferenceGaveUp(item) with { InferPending = false };
        }

        var context = await RehydrateAsync(new RedactItemContext(item.RequestId, item.Model, item.Version), item, "redact", cancellationToken).ConfigureAwait(false);
        if (context.Refusal is not null)
        {
            return Next(item, context);
        }

        await redact.RunAsync(context, cancellationToken).ConfigureAwait(false);
        var released = context.Refusal is null ? Encode(context, context.Released) : null;
        return Next(item, context) with
        {
            Released = released,
            Redactions = context.Redactions,
        };
    }

    private async Task<AuditReceipt?> AuditItemAsync(ItemState item, CancellationToken cancellationToken)
    {
        var context = await RehydrateAsync(new AuditItemContext(item.RequestId, item.Model, item.Version), item, "audit", cancellationToken).ConfigureAwait(false);
        context.Redactions = item.Redactions;
        context.ReceiptRequested = item.ReceiptRequested;
        if (item.Released is { } released && item.RefusalKind is null)
        {
            try
            {
                context.Released = V2Json.ReadResponse(Encoding.UTF8.GetBytes(released), null, OwnPayloads);
            }
            catch (RefusedException)
            {
                // Never expected (the redact step wrote it): the record goes without the output's digest rather than
                // the step failing on every attempt and the item going unaudited.
            }
        }

        await audit.RunAsync(context, cancellationToken).ConfigureAwait(false);
        if (context.RefusedAt == "audit")
        {
            throw new TransientStepException("audit log unavailable; the orchestration retries");
        }

        return context.Receipt;
    }

    /// <summary>The verdicts and refusal of an item whose inference failed on every attempt.</summary>
    public static ItemState InferenceGaveUp(ItemState item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var refusal = Refusal.Unavailable("inference service unavailable");
        return item with
        {
            Verdicts = [.. item.Verdicts, new StageVerdict("infer", refusal.Verdict, 0)],
            RefusalKind = refusal.Kind,
            RefusalMessage = refusal.Message,
            RefusedAt = "infer",
        };
    }

    /// <summary>
    /// The verdicts and refusal of an item whose job was cancelled before its output was released: at infer when it was
    /// not inferred yet, else at redact; at <paramref name="stage"/> when given (a validate step given up in a cancelled
    /// job: the item has no validate verdict, and its record says where it stopped).
    /// </summary>
    public static ItemState Cancelled(ItemState item, string? stage = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        var refusal = Refusal.Cancelled;
        stage ??= item.Inferred is null ? "infer" : "redact";
        return item with
        {
            Verdicts = [.. item.Verdicts, new StageVerdict(stage, refusal.Verdict, 0)],
            RefusalKind = refusal.Kind,
            RefusalMessage = "job cancelled",
            RefusedAt = stage,
            InferPending = false,
        };
    }

    private static TContext Rebuild<TContext>(TContext context, ItemState item)
        where TContext : InferenceContext
    {
        context.Caller = new CallerIdentity(item.CallerSubject, item.CallerRoles) { TokenId = item.CallerTokenId, IssuedAt = item.CallerIssuedAt };
        context.Defenses = [.. item.Defenses];
        context.Restore(item.Verdicts, item.RefusalKind is { } kind ? new Refusal(kind, item.RefusalMessage ?? "") { RetryAfter = item.RefusalRetryAfter } : null, item.RefusedAt);
        return context;
    }

    // The verified version and the parsed request, from the item's values: the model is signed and write-once, so
    // resolving the pinned version again yields the same one. Its standing may have changed since validate (quarantined,
    // withdrawn, retired, revoked): the infer and redact steps then refuse the item, as the lookup refused it, while
    // the audit step records it against the version it ran on. A store that cannot be reached throws, and the step is
    // retried.
    private async Task<TContext> RehydrateAsync<TContext>(TContext context, ItemState item, string stage, CancellationToken cancellationToken)
        where TContext : InferenceContext
    {
        Rebuild(context, item);
        try
        {
            context.Model = stage == "audit"
                ? await catalog.VerifiedAsync(item.Model, item.Version, cancellationToken).ConfigureAwait(false)
                : await catalog.ResolveAsync(item.Model, item.Version, cancellationToken).ConfigureAwait(false);
        }
        catch (RefusedException ex) when (ex.Refusal is not { Kind: RefusalKind.Unavailable, VersionScoped: false })
        {
            if (stage != "audit")
            {
                RefuseAt(context, stage, ex.Refusal);
                return context;
            }

            // Gone from the store or no longer verifying: the record goes without the version's digest.
        }

        if (item.RefusalKind is null || item.RefusedAt != "read")
        {
            try
            {
                context.Request = V2Json.ReadRequest(Encoding.UTF8.GetBytes(item.Request), null, limits);
            }
            catch (RefusedException)
            {
                // A request the validate activity refused: the audit record goes without its input digest.
            }
        }

        if (item.Inferred is { } inferred && item.RefusalKind is null)
        {
            try
            {
                context.Inferred = V2Json.ReadResponse(Encoding.UTF8.GetBytes(inferred), null, OwnPayloads);
            }
            catch (RefusedException ex) when (stage != "audit")
            {
                // Not expected (the infer step wrote it), but then this item's refusal, never the whole step's failure.
                RefuseAt(context, stage, ex.Refusal);
            }
        }

        return context;
    }

    // What the steps pass each other is the gateway's own writing, not a caller's body: a model's answer read back with
    // the limits the gateway read it from the inference app with (ForResponses), without a body limit (an output within
    // the binary limit can be larger as JSON). Before 2026-12-08 the caller's caps bound it, so a job refused an output
    // inline infer returned (a 21×512×512 mask, 65 outputs, a long name) and the audit record lost its output digest.
    private ProtocolLimits OwnPayloads => _ownPayloads ??= ResponseLimits(limits);

    internal static ProtocolLimits ResponseLimits(ProtocolLimits limits) => limits.ForResponses().WithoutBodyLimit();

    private ProtocolLimits? _ownPayloads;

    // A response as V2 JSON between the steps; one JSON cannot hold (a non-finite number, bytes that are not UTF-8) is
    // this item's refusal, as it is a sync request's, never the whole step's failure.
    private static string? Encode(InferenceContext context, InferenceResponse? response)
    {
        if (response is null)
        {
            return null;
        }

        try
        {
            return Json(response);
        }
        catch (RefusedException ex)
        {
            RefuseAt(context, "encode", ex.Refusal);
            return null;
        }
    }

    private static void RefuseAt(InferenceContext context, string stage, Refusal refusal) =>
        context.Restore([new StageVerdict(stage, refusal.Verdict, 0)], refusal, stage);

    private static ItemState Next(ItemState item, InferenceContext context) => item with
    {
        Verdicts = context.Verdicts,
        Defenses = context.Defenses,
        RefusalKind = context.Refusal?.Kind,
        RefusalMessage = context.Refusal?.Message,
        RefusalRetryAfter = context.Refusal?.RetryAfter,
        RefusedAt = context.RefusedAt,
    };

    private static string Json(InferenceResponse response) =>
        Encoding.UTF8.GetString(V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null).Body);
}
