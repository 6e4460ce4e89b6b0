using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// What changes while a job runs, step by step on the real activities (in-process gateway, inference app behind its
/// test server, audit on Azurite): a caller contained after submitting, a version withdrawn after validate, and a
/// payload between steps that cannot be read. Each refuses the item concerned, which is still audited once; none fails
/// the step.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class JobItemStandingTests(InProcessStack stack)
{
    private const string Row = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Theory]
    [InlineData(ContainmentKind.Block, RefusalKind.Forbidden)]
    [InlineData(ContainmentKind.RevokeCaller, RefusalKind.Unauthenticated)]
    public async Task CallerContainedAfterSubmitting_RemainingItemsRefused_AndAudited(ContainmentKind kind, RefusalKind expected)
    {
        var subject = "job-contained-" + Guid.NewGuid().ToString("N")[..8];
        var caller = new CallerIdentity(subject, []) { TokenId = Guid.NewGuid().ToString("N"), IssuedAt = DateTimeOffset.UtcNow.AddMinutes(-1) };
        var (activities, payloads) = Services();
        var chunk = await ChunkAsync(payloads, "credit-risk", "1", caller);

        var registry = stack.GatewayServices.GetRequiredService<ContainmentRegistry>();
        await registry.ApplyAsync(new ContainmentEntry(kind, stack.Pseudonym(subject), DateTimeOffset.UtcNow.AddMinutes(10), null, "test", null, DateTimeOffset.UtcNow), default);

        var validated = await activities.ValidateAsync(chunk);
        var item = Assert.Single(await payloads.GetAsync<ItemState[]>(validated.Items, default));
        Assert.Equal((expected, "contain"), (item.RefusalKind!.Value, item.RefusedAt!));

        var audited = await AuditedAsync(activities, payloads, validated);
        Assert.Equal(expected == RefusalKind.Forbidden ? "forbidden" : "unauthenticated", audited.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task VersionQuarantinedAfterValidate_ItemRefused_AuditedAgainstTheVersionItRanOn()
    {
        var model = "job-standing-" + Guid.NewGuid().ToString("N")[..8];
        var store = stack.GatewayServices.GetRequiredService<ModelStore>();
        var digest = await store.PublishAsync(TestPackages.CreditRisk(model, "1"));
        var (activities, payloads) = Services();
        var chunk = await ChunkAsync(payloads, model, "1", new CallerIdentity("job-standing", []));
        var validated = await activities.ValidateAsync(chunk);
        var inferred = await activities.InferAsync(validated);
        Assert.Null(Assert.Single(await payloads.GetAsync<ItemState[]>(inferred.Items, default)).RefusalKind);

        var registry = stack.GatewayServices.GetRequiredService<ContainmentRegistry>();
        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Quarantine, ContainmentEntry.ModelSubject(model, "1"), DateTimeOffset.UtcNow.AddMinutes(10), null, "test", null, DateTimeOffset.UtcNow), default);

        var redacted = await activities.RedactAsync(inferred);
        var item = Assert.Single(await payloads.GetAsync<ItemState[]>(redacted.Items, default));
        Assert.Equal((RefusalKind.Unavailable, "redact"), (item.RefusalKind!.Value, item.RefusedAt!));
        Assert.Null(item.Released);

        var audited = await AuditedAsync(activities, payloads, redacted);
        Assert.Equal("unavailable", audited.GetProperty("outcome").GetString());
        Assert.Equal(digest, audited.GetProperty("manifestDigest").GetString());
    }

    [Fact]
    public async Task InferredPayloadUnreadable_ThatItemRefused_TheOthersReleased()
    {
        var (activities, payloads) = Services();
        var chunk = await ChunkAsync(payloads, "credit-risk", "1", new CallerIdentity("job-unreadable", []), items: 2);
        var inferred = await activities.InferAsync(await activities.ValidateAsync(chunk));
        var items = await payloads.GetAsync<ItemState[]>(inferred.Items, default);
        items[0] = items[0] with { Inferred = "{\"outputs\": [" };
        var broken = inferred with { Items = await payloads.PutAsync(inferred.JobId, items, default) };

        var redacted = await payloads.GetAsync<ItemState[]>((await activities.RedactAsync(broken)).Items, default);

        Assert.Equal(RefusalKind.Invalid, redacted[0].RefusalKind);
        Assert.Null(redacted[1].RefusalKind);
        Assert.NotNull(redacted[1].Released);
    }

    /// <summary>
    /// A step that failed on every attempt (storage, the catalog or the containment view out for longer than its
    /// retries): the give-up step refuses what it left, at that step, as unavailable, and the audit step records it.
    /// Found in review 2026-12-07: the job failed at once and those items, charged and perhaps run, had no record. An
    /// item already refused keeps its own refusal.
    /// </summary>
    [Theory]
    [InlineData(JobActivities.Validate, "validate")]
    [InlineData(JobActivities.Infer, "infer")]
    [InlineData(JobActivities.Redact, "redact")]
    public async Task StepFailedOnEveryAttempt_ItsItemsRefusedThere_AndAudited_NothingReleased(string failed, string stage)
    {
        var (activities, payloads) = Services();
        var chunk = await ChunkAsync(payloads, "credit-risk", "1", new CallerIdentity("job-gave-up", []));
        if (failed != JobActivities.Validate)
        {
            chunk = await activities.ValidateAsync(chunk);
        }

        if (failed == JobActivities.Redact)
        {
            chunk = await activities.InferAsync(chunk);
            Assert.NotNull(Assert.Single(await payloads.GetAsync<ItemState[]>(chunk.Items, default)).Inferred);
        }

        var givenUp = await activities.GiveUpAsync(chunk with { GaveUpAt = failed });

        Assert.Equal(JobActivities.GiveUp, givenUp.Step);
        var item = Assert.Single(await payloads.GetAsync<ItemState[]>(givenUp.Items, default));
        Assert.Equal((RefusalKind.Unavailable, stage), (item.RefusalKind!.Value, item.RefusedAt!));
        Assert.Null(item.Released);
        var audited = await AuditedAsync(activities, payloads, givenUp);
        Assert.Equal("unavailable", audited.GetProperty("outcome").GetString());
        Assert.False(audited.TryGetProperty("outputSha256", out var output) && output.ValueKind == JsonValueKind.String);

        // An item refused before keeps its refusal.
        var refused = await ChunkAsync(payloads, "no-such-model", "1", new CallerIdentity("job-gave-up", []));
        var validated = await activities.ValidateAsync(refused);
        var kept = Assert.Single(await payloads.GetAsync<ItemState[]>((await activities.GiveUpAsync(validated with { GaveUpAt = JobActivities.Infer })).Items, default));
        Assert.Equal(RefusalKind.NotFound, kept.RefusalKind);
    }

    /// <summary>
    /// A containment view not read yet (an instance scaled out, its first read slow) fails the validate step, which the
    /// orchestration tries again, as infer and redact do; nothing is charged or refused. Found in review 2026-12-07:
    /// each item was refused unavailable for good.
    /// </summary>
    [Fact]
    public async Task Validate_ContainmentViewNotRead_StepFailsToBeTriedAgain_NoItemRefused()
    {
        var services = stack.GatewayServices;
        var unread = new ContainmentRegistry(services.GetRequiredService<ContainmentStore>(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ContainmentRegistry>.Instance);
        var options = Microsoft.Extensions.Options.Options.Create(new ContainmentOptions { FirstReadTimeout = TimeSpan.FromMilliseconds(100) });
        var activities = ActivitiesWith(services, unread, options);
        var payloads = services.GetRequiredService<PayloadStore>();
        var chunk = await ChunkAsync(payloads, "credit-risk", "1", new CallerIdentity("job-unread-view", []));

        await Assert.ThrowsAsync<TransientStepException>(() => activities.ValidateAsync(chunk));

        // The same step on an instance whose view is read: validated.
        var validated = await Services().Activities.ValidateAsync(chunk);
        Assert.Null(Assert.Single(await payloads.GetAsync<ItemState[]>(validated.Items, default)).RefusalKind);
    }

    /// <summary>
    /// A chunk some of whose items were inferred, its next try of infer (for the items left pending) failing on every
    /// attempt: the inferred items are refused at redact, each with one verdict a stage, and audited. Found in review
    /// 2026-12-07: they got a second infer verdict, their records could not be built, and the job failed with items the
    /// model ran on unaudited.
    /// </summary>
    [Fact]
    public async Task InferRetryFailedOnEveryAttempt_ItemsInferredBefore_RefusedAtRedact_AndAudited()
    {
        var (activities, payloads) = Services();
        var chunk = await activities.InferAsync(await activities.ValidateAsync(await ChunkAsync(payloads, "credit-risk", "1", new CallerIdentity("job-gave-up-inferred", []))));
        Assert.NotNull(Assert.Single(await payloads.GetAsync<ItemState[]>(chunk.Items, default)).Inferred);

        var givenUp = await activities.GiveUpAsync(chunk with { GaveUpAt = JobActivities.Infer });

        var item = Assert.Single(await payloads.GetAsync<ItemState[]>(givenUp.Items, default));
        Assert.Equal((RefusalKind.Unavailable, "redact"), (item.RefusalKind!.Value, item.RefusedAt!));
        Assert.Single(item.Verdicts, v => v.Stage == "infer");
        var audited = await AuditedAsync(activities, payloads, givenUp);
        Assert.Equal("unavailable", audited.GetProperty("outcome").GetString());
        Assert.False(audited.TryGetProperty("outputSha256", out var output) && output.ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task CancelledJob_StepFailedOnEveryAttempt_ItsItemsRefusedAsCancelled()
    {
        var (activities, payloads) = Services();
        var chunk = await activities.InferAsync(await activities.ValidateAsync(await ChunkAsync(payloads, "credit-risk", "1", new CallerIdentity("job-gave-up-cancelled", []))));

        var givenUp = await activities.GiveUpAsync(chunk with { GaveUpAt = JobActivities.Redact, Cancelled = true });

        var item = Assert.Single(await payloads.GetAsync<ItemState[]>(givenUp.Items, default));
        Assert.Equal(RefusalKind.Cancelled, item.RefusalKind);
        Assert.Equal("cancelled", (await AuditedAsync(activities, payloads, givenUp)).GetProperty("outcome").GetString());
    }

    /// <summary>A validate step given up in a cancelled job: refused as cancelled at validate, where it stopped (review 2026-12-07).</summary>
    [Fact]
    public async Task CancelledJob_ValidateFailedOnEveryAttempt_RefusedAsCancelledAtValidate()
    {
        var (activities, payloads) = Services();
        var chunk = await ChunkAsync(payloads, "credit-risk", "1", new CallerIdentity("job-gave-up-validate-cancelled", []));

        var givenUp = await activities.GiveUpAsync(chunk with { GaveUpAt = JobActivities.Validate, Cancelled = true });

        var item = Assert.Single(await payloads.GetAsync<ItemState[]>(givenUp.Items, default));
        Assert.Equal((RefusalKind.Cancelled, "validate"), (item.RefusalKind!.Value, item.RefusedAt!));
        var audited = await AuditedAsync(activities, payloads, givenUp);
        Assert.Equal("cancelled", audited.GetProperty("outcome").GetString());
        Assert.Equal("refused:cancelled", audited.GetProperty("stages").GetProperty("validate").GetString());
    }

    private static JobActivities ActivitiesWith(IServiceProvider services, ContainmentRegistry containment, Microsoft.Extensions.Options.IOptions<ContainmentOptions> options) =>
        ActivatorUtilities.CreateInstance<JobActivities>(services, containment, options);

    private (JobActivities Activities, PayloadStore Payloads) Services() =>
        (stack.GatewayServices.GetRequiredService<JobActivities>(), stack.GatewayServices.GetRequiredService<PayloadStore>());

    private static async Task<ChunkStep> ChunkAsync(PayloadStore payloads, string model, string version, CallerIdentity caller, int items = 1)
    {
        var jobId = "standing" + Guid.NewGuid().ToString("N")[..12];
        var states = Enumerable.Range(0, items).Select(i => ItemState.Start(jobId, i, model, version, caller, Row)).ToArray();
        return new ChunkStep(jobId, 0, "start", await payloads.PutAsync(jobId, states, default));
    }

    private async Task<JsonElement> AuditedAsync(JobActivities activities, PayloadStore payloads, ChunkStep step)
    {
        var results = await activities.AuditAsync(step);
        Assert.Single(await payloads.GetAsync<ItemResult[]>(results.Items, default));
        var requestId = step.JobId + ".0";
        var lines = await stack.AuditLinesAsync();
        return Assert.Single(lines.Select(l => JsonDocument.Parse(l).RootElement), r => r.GetProperty("requestId").GetString() == requestId);
    }
}
