using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Jobs;

/// <summary>
/// The job path's activities, each a few lines over the sync path's stage types: a context rebuilt from the item's plain
/// values, its own pipeline, and the item's new values. Activities run at least once; each is a pure function of its
/// input and immutable state, except audit (one record per job item; see docs/design.md, "Jobs").
/// </summary>
public sealed class JobActivities(
    StagePipeline<ValidateItemContext> validate,
    StagePipeline<InferItemContext> infer,
    StagePipeline<RedactItemContext> redact,
    StagePipeline<AuditItemContext> audit,
    IModelCatalog catalog,
    AuditReceipts receipts,
    ProtocolLimits limits)
{
    public const string Validate = "ValidateItem";
    public const string Infer = "InferItem";
    public const string Redact = "RedactItem";
    public const string Audit = "AuditItem";

    /// <summary>resolve → authorize → read → validate the item's request.</summary>
    public async Task<ItemState> ValidateAsync(ItemState item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        var context = Rebuild(new ValidateItemContext(item.RequestId, item.Model, item.Version), item);
        var body = Encoding.UTF8.GetBytes(item.Request);
        context.Body = new IncomingBody(new MemoryStream(body), body.Length, "application/json", null, null);
        await validate.RunAsync(context, cancellationToken).ConfigureAwait(false);
        return Next(item, context);
    }

    /// <summary>
    /// infer: the inference app, with the service token. A transient failure (unreachable, timed out, 5xx, 429) throws
    /// <see cref="TransientStepException"/>, so the orchestration retries with back-off; a refusal of the input
    /// (400, 413) is the item's answer and is never retried.
    /// </summary>
    public async Task<ItemState> InferAsync(ItemState item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        var context = await RehydrateAsync(new InferItemContext(item.RequestId, item.Model, item.Version), item, cancellationToken).ConfigureAwait(false);
        await infer.RunAsync(context, cancellationToken).ConfigureAwait(false);
        if (context.RefusedAt == "infer" && context.Refusal?.Kind is RefusalKind.Unavailable or RefusalKind.RateLimited)
        {
            throw new TransientStepException("inference service unavailable; the orchestration retries");
        }

        return Next(item, context) with { Inferred = context.Inferred is { } inferred ? Json(inferred) : null };
    }

    /// <summary>redact: the policy's hardening and PII redaction of the model's response.</summary>
    public async Task<ItemState> RedactAsync(ItemState item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        var context = await RehydrateAsync(new RedactItemContext(item.RequestId, item.Model, item.Version), item, cancellationToken).ConfigureAwait(false);
        await redact.RunAsync(context, cancellationToken).ConfigureAwait(false);
        return Next(item, context) with
        {
            Released = context.Released is { } released ? Json(released) : null,
            Redactions = context.Redactions,
        };
    }

    /// <summary>
    /// audit: the item's one record, with every stage's verdict, whatever the outcome — exactly once however often the
    /// activity runs (<see cref="AuditReceipts"/>, keyed by job and item). A record that cannot be committed throws, so
    /// the orchestration retries; the job never completes with an item unaudited.
    /// </summary>
    public async Task<ItemState> AuditAsync(ItemState item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        var (state, since) = await receipts.BeginAsync(item.RequestId, cancellationToken).ConfigureAwait(false);
        if (state == ReceiptState.Committed
            || (state == ReceiptState.Interrupted && await receipts.InChainsAsync(item.RequestId, since, cancellationToken).ConfigureAwait(false)))
        {
            await receipts.CommitAsync(item.RequestId, cancellationToken).ConfigureAwait(false);
            return item with { Audited = true };
        }

        var context = await RehydrateAsync(new AuditItemContext(item.RequestId, item.Model, item.Version), item, cancellationToken).ConfigureAwait(false);
        context.Redactions = item.Redactions;
        if (item.Released is { } released)
        {
            context.Released = V2Json.ReadResponse(Encoding.UTF8.GetBytes(released), null, limits);
        }

        await audit.RunAsync(context, cancellationToken).ConfigureAwait(false);
        if (context.RefusedAt == "audit")
        {
            throw new TransientStepException("audit log unavailable; the orchestration retries");
        }

        await receipts.CommitAsync(item.RequestId, cancellationToken).ConfigureAwait(false);
        return item with { Audited = true };
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

    private static TContext Rebuild<TContext>(TContext context, ItemState item)
        where TContext : InferenceContext
    {
        context.Caller = new CallerIdentity(item.CallerSubject, item.CallerRoles);
        context.Restore(item.Verdicts, item.RefusalKind is { } kind ? new Refusal(kind, item.RefusalMessage ?? "") : null, item.RefusedAt);
        return context;
    }

    // The verified version and the parsed request, from the item's values: the model is signed and write-once, so
    // resolving the pinned version again yields the same one.
    private async Task<TContext> RehydrateAsync<TContext>(TContext context, ItemState item, CancellationToken cancellationToken)
        where TContext : InferenceContext
    {
        Rebuild(context, item);
        context.Model = await catalog.ResolveAsync(item.Model, item.Version, cancellationToken).ConfigureAwait(false);
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

        if (item.Inferred is { } inferred)
        {
            context.Inferred = V2Json.ReadResponse(Encoding.UTF8.GetBytes(inferred), null, limits);
        }

        return context;
    }

    private static ItemState Next(ItemState item, InferenceContext context) => item with
    {
        Verdicts = context.Verdicts,
        RefusalKind = context.Refusal?.Kind,
        RefusalMessage = context.Refusal?.Message,
        RefusedAt = context.RefusedAt,
    };

    private static string Json(InferenceResponse response) =>
        Encoding.UTF8.GetString(V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null).Body);
}
