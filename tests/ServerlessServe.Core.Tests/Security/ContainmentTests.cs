using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Core.Tests.Audit;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Security;

/// <summary>The containment table, each instance's view of it, security events and the contain stage, on real Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ContainmentTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    // Pseudonyms, as an operator's entries name callers.
    private static readonly string CallerA = new('a', 32);
    private static readonly string CallerB = new('b', 32);

    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public async Task Store_SetListLift_LatestDecisionWins()
    {
        var store = await NewStoreAsync();
        await store.SetAsync(new ContainmentEntry(ContainmentKind.Block, "c1", Start.AddHours(1), null, "extraction", "sev-1", Start));
        await store.SetAsync(new ContainmentEntry(ContainmentKind.Block, "c1", null, null, ContainmentEntry.OperatorReason, null, Start.AddMinutes(1)));
        await store.SetAsync(new ContainmentEntry(ContainmentKind.Quarantine, ContainmentEntry.ModelSubject("digits", "2"), null, null, "canary-output", "sev-2", Start));

        var entries = await store.ListAsync();

        Assert.Equal(2, entries.Count);
        var block = Assert.Single(entries, e => e.Kind == ContainmentKind.Block);
        Assert.Null(block.Until);
        Assert.Equal(ContainmentEntry.OperatorReason, block.Reason);
        Assert.Contains(entries, e => e.Kind == ContainmentKind.Quarantine && e.Subject == "digits/2" && e.EventId == "sev-2");
        Assert.True(await store.LiftAsync(ContainmentKind.Quarantine, "digits/2"));
        Assert.False(await store.LiftAsync(ContainmentKind.Quarantine, "digits/2"));
        Assert.Single(await store.ListAsync());
    }

    [Fact]
    public async Task Registry_BlockSetOnOneInstance_InForceThereAtOnceAndOnAnotherAfterItsRefresh()
    {
        var store = await NewStoreAsync();
        var first = NewRegistry(store);
        var second = NewRegistry(store);
        await first.RefreshAsync(default);
        await second.RefreshAsync(default);

        await first.ApplyAsync(new ContainmentEntry(ContainmentKind.Block, "caller-a", Start.AddMinutes(10), null, "extraction", "sev-1", Start), default);

        Assert.True(first.Standing("caller-a").Blocked);
        Assert.False(second.Standing("caller-a").Blocked);
        Assert.False(first.Standing("caller-b").Blocked);
        await second.RefreshAsync(default);
        Assert.True(second.Standing("caller-a").Blocked);

        // Lifted in the table (ssctl contain lift): gone everywhere at the next refresh.
        Assert.True(await store.LiftAsync(ContainmentKind.Block, "caller-a"));
        await first.RefreshAsync(default);
        await second.RefreshAsync(default);
        Assert.False(first.Standing("caller-a").Blocked);
        Assert.False(second.Standing("caller-a").Blocked);
    }

    [Fact]
    public async Task Registry_TimedBlock_EndsByItself()
    {
        var store = await NewStoreAsync();
        var registry = NewRegistry(store);
        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Block, "caller-a", Start.AddMinutes(10), null, "extraction", "sev-1", Start), default);

        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.True(registry.Standing("caller-a").Blocked);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(registry.Standing("caller-a").Blocked);
        await registry.RefreshAsync(default);
        Assert.Empty(registry.InForce());
    }

    /// <summary>
    /// An automatic decision (a security event's action) never weakens what is in force for its kind and subject: an
    /// operator's throttle "until lifted" at 1 a minute stays so when a milder alarm asks for 600 a minute for 10 minutes,
    /// and an operator's block stays past the hour an event's block would have ended it. Before the fix the latest decision
    /// won, so a throttled caller got out of its throttle by tripping a second, more lenient alarm.
    /// </summary>
    [Fact]
    public async Task Registry_AutomaticDecision_NeverWeakensWhatIsInForce_HereInTheTableAndElsewhere()
    {
        var store = await NewStoreAsync();
        var operators = new OperatorContainment(store, _time);
        var registry = NewRegistry(store);
        var other = NewRegistry(store);
        await operators.SetAsync(ContainmentKind.Throttle, CallerA, null, 1, null, default);
        await operators.SetAsync(ContainmentKind.Block, CallerB, null, null, null, default);
        await registry.RefreshAsync(default);

        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Throttle, CallerA, Start.AddMinutes(10), 600, "extraction", "sev-1", Start), default);
        // This instance never read the table: its write finds the operator's block there and combines with it.
        await other.ApplyAsync(new ContainmentEntry(ContainmentKind.Block, CallerB, Start.AddHours(1), null, "extraction", "sev-2", Start), default);

        Assert.Equal(1, registry.Standing(CallerA).RequestsPerMinute);
        var stored = await store.ListAsync();
        var throttle = Assert.Single(stored, e => e.Kind == ContainmentKind.Throttle);
        Assert.Equal((null, 1), (throttle.Until, throttle.RequestsPerMinute));
        Assert.Null(Assert.Single(stored, e => e.Kind == ContainmentKind.Block).Until);

        _time.Advance(TimeSpan.FromMinutes(61));
        await registry.RefreshAsync(default);
        Assert.True(other.Standing(CallerB).Blocked);
        Assert.True(registry.Standing(CallerB).Blocked);
        Assert.Equal(1, registry.Standing(CallerA).RequestsPerMinute);
    }

    /// <summary>Two automatic decisions on one caller combine: the later end and the fewer requests a minute.</summary>
    [Fact]
    public async Task Registry_TwoAutomaticThrottles_TheLaterEndAndTheLowerRate()
    {
        var store = await NewStoreAsync();
        var registry = NewRegistry(store);
        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Throttle, CallerA, Start.AddMinutes(10), 10, "extraction", "sev-1", Start), default);

        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Throttle, CallerA, Start.AddMinutes(5), 2, "canary-input", "sev-2", Start), default);

        var entry = Assert.Single(await store.ListAsync());
        Assert.Equal((Start.AddMinutes(10), 2, "sev-2"), (entry.Until, entry.RequestsPerMinute, entry.EventId));
        Assert.Equal(2, registry.Standing(CallerA).RequestsPerMinute);
        _time.Advance(TimeSpan.FromMinutes(7));
        await registry.RefreshAsync(default);
        Assert.Equal(2, registry.Standing(CallerA).RequestsPerMinute);
    }

    [Fact]
    public async Task Registry_Throttle_AllowsTheRatePerMinuteThenRefusesUntilItRefills()
    {
        var registry = NewRegistry(await NewStoreAsync());
        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Throttle, "caller-a", null, 3, "extraction", "sev-1", Start), default);

        var standing = registry.Standing("caller-a");
        Assert.False(standing.Blocked);
        Assert.Equal(3, standing.RequestsPerMinute);
        Assert.True(registry.TryAcquire("caller-a", 3));
        Assert.True(registry.TryAcquire("caller-a", 3));
        Assert.True(registry.TryAcquire("caller-a", 3));
        Assert.False(registry.TryAcquire("caller-a", 3));
        _time.Advance(TimeSpan.FromSeconds(20)); // a third of a minute: one request's worth
        Assert.True(registry.TryAcquire("caller-a", 3));
        Assert.False(registry.TryAcquire("caller-a", 3));
    }

    [Fact]
    public async Task SecurityEvent_Block_IsInForceAndOnTheAuditTrailWithItsEvidence()
    {
        var store = await NewStoreAsync();
        var registry = NewRegistry(store);
        await registry.RefreshAsync(default);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var container = await azurite.CreateContainerAsync("secaudit");
        var sink = new BlobAuditSink(container, AuditTestData.Options(key, static o => o.GroupWindow = TimeSpan.Zero), new FakeLogger<BlobAuditSink>(), TimeProvider.System);
        sink.Start();
        var logger = new FakeLogger<SecurityEventWriter>();
        await using (sink)
        {
            var writer = new SecurityEventWriter(registry, sink, logger);
            await writer.RaiseAsync(
                new SecurityEvent
                {
                    Id = "sev-test-1",
                    Time = Start,
                    Kind = SecurityEventKinds.Extraction,
                    Caller = "c0ffee",
                    Model = "digits",
                    ModelVersion = "1",
                    RequestId = "req-9",
                    Evidence = new Dictionary<string, string> { ["w"] = "0.71", ["delta"] = "0.9" },
                    Action = new ContainmentAction(ContainmentKind.Block, TimeSpan.FromHours(1)),
                },
                default);

            // Recorded only: a block needs a caller, and an anonymous event names none.
            await writer.RaiseAsync(
                new SecurityEvent
                {
                    Id = "sev-test-2",
                    Time = Start,
                    Kind = SecurityEventKinds.CanaryEgress,
                    Caller = CallerPseudonymizer.Anonymous,
                    Evidence = new Dictionary<string, string> { ["canary"] = "abc" },
                    Action = new ContainmentAction(ContainmentKind.Block, TimeSpan.FromHours(1)),
                },
                default);
        }

        Assert.True(registry.Standing("c0ffee").Blocked);
        var fromTable = Assert.Single(await store.ListAsync());
        Assert.Equal(("c0ffee", "sev-test-1", Start.AddHours(1)), (fromTable.Subject, fromTable.EventId, fromTable.Until!.Value));

        var records = await ReadRecordsAsync(container);
        var first = Assert.Single(records, r => r.RequestId == "sev-test-1");
        Assert.Equal(AuditEvent.SecurityOperation, first.Operation);
        Assert.Equal("block", first.Outcome);
        Assert.Equal(("extraction", "block", "0.71", "req-9"), (first.Security!.Kind, first.Security.Action, first.Security.Evidence["w"], first.Security.Evidence["requestId"]));
        Assert.Equal(Start.AddHours(1), first.Security.Until);
        var second = Assert.Single(records, r => r.RequestId == "sev-test-2");
        Assert.Equal("none", second.Security!.Action);
        Assert.Equal(2, logger.Collector.GetSnapshot().Count(r => r.Id.Id == 6000));
    }

    [Fact]
    public async Task ContainStage_BlockedThrottledClearAndNeverRead()
    {
        var pseudonymizer = new CallerPseudonymizer(new byte[32]);
        var store = await NewStoreAsync();
        var registry = NewRegistry(store);
        var stage = new EnforceContainment(registry, pseudonymizer, Options.Create(new ContainmentOptions { FirstReadTimeout = TimeSpan.FromMilliseconds(100) }), new FakeLogger<EnforceContainment>());

        // Never read: refused, not waved through (on the real clock, which the first-read timeout runs on).
        var unread = new EnforceContainment(new ContainmentRegistry(store, TimeProvider.System, new FakeLogger<ContainmentRegistry>()), pseudonymizer, Options.Create(new ContainmentOptions { FirstReadTimeout = TimeSpan.FromMilliseconds(100) }), new FakeLogger<EnforceContainment>());
        var notReady = await unread.RunAsync(Context("alice"), default);
        Assert.Equal(RefusalKind.Unavailable, notReady.Refusal!.Kind);
        Assert.Equal(TimeSpan.FromSeconds(1), notReady.Refusal.RetryAfter);

        await registry.RefreshAsync(default);
        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Block, pseudonymizer.Pseudonymize("mallory"), null, null, "extraction", "sev-1", Start), default);
        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Throttle, pseudonymizer.Pseudonymize("bob"), null, 1, "extraction", "sev-2", Start), default);

        Assert.Null((await stage.RunAsync(Context("alice"), default)).Refusal);
        Assert.Same(EnforceContainment.Blocked, (await stage.RunAsync(Context("mallory"), default)).Refusal);
        Assert.Null((await stage.RunAsync(Context("bob"), default)).Refusal);
        var throttled = (await stage.RunAsync(Context("bob"), default)).Refusal!;
        Assert.Equal(RefusalKind.RateLimited, throttled.Kind);
        // 1 a minute, the one spent: the next is a minute away (the 429 went without Retry-After before).
        Assert.Equal(TimeSpan.FromMinutes(1), throttled.RetryAfter);
        _time.Advance(TimeSpan.FromSeconds(45));
        var later = (await stage.RunAsync(Context("bob"), default)).Refusal!.RetryAfter!.Value;
        Assert.InRange(later, TimeSpan.FromSeconds(14.999), TimeSpan.FromSeconds(15.001));
    }

    [Fact]
    public async Task ContainStage_TableUnreadablePastMaxStaleness_UnavailableUntilARead()
    {
        var pseudonymizer = new CallerPseudonymizer(new byte[32]);
        var store = await NewStoreAsync();
        var registry = NewRegistry(store);
        var stage = new EnforceContainment(registry, pseudonymizer, Options.Create(new ContainmentOptions()), new FakeLogger<EnforceContainment>());
        await registry.RefreshAsync(default);

        registry.RefreshFailed(new Azure.RequestFailedException(503, "storage down"));
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Null((await stage.RunAsync(Context("alice"), default)).Refusal);

        // Past it, a block or revocation set elsewhere may be missing from the snapshot: refused, not waved through.
        _time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(RefusalKind.Unavailable, (await stage.RunAsync(Context("alice"), default)).Refusal!.Kind);

        await registry.RefreshAsync(default);
        Assert.Null((await stage.RunAsync(Context("alice"), default)).Refusal);
    }

    [Fact]
    public async Task Catalog_QuarantinedNewestVersion_PreviousServesAndTheVersionIsRefused()
    {
        var registry = NewRegistry(await NewStoreAsync());
        await registry.RefreshAsync(default);
        var container = await azurite.CreateContainerAsync("quarantine");
        var models = new ModelStore(container, TestPackages.Trusted(), new ModelStoreOptions(), new FakeLogger<ModelStore>());
        await models.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));
        await models.PublishAsync(TestPackages.CreditRisk("credit-risk", "2"));
        var catalog = new ModelCatalog(models, Options.Create(new ModelCatalogOptions()), _time, new FakeLogger<ModelCatalog>(), registry);
        Assert.Equal("2", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);

        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.Quarantine, ContainmentEntry.ModelSubject("credit-risk", "2"), null, null, ContainmentEntry.OperatorReason, null, Start), default);

        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);
        var refused = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync("credit-risk", "2", default));
        Assert.Equal(RefusalKind.Unavailable, refused.Kind);
    }

    [Fact]
    public async Task ContainStage_RevokedTokenIdAndCallerRevokedUpToATime_Refused401_LaterTokensAccepted()
    {
        var pseudonymizer = new CallerPseudonymizer(new byte[32]);
        var registry = NewRegistry(await NewStoreAsync());
        var logger = new FakeLogger<EnforceContainment>();
        var stage = new EnforceContainment(registry, pseudonymizer, Options.Create(new ContainmentOptions()), logger);
        await registry.RefreshAsync(default);
        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.RevokeToken, "jti-stolen", Start.AddHours(1), null, ContainmentEntry.OperatorReason, null, Start), default);
        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.RevokeCaller, pseudonymizer.Pseudonymize("carol"), Start.AddHours(24), null, ContainmentEntry.OperatorReason, null, Start), default);

        Assert.Same(EnforceContainment.Revoked, (await stage.RunAsync(Context("alice", "jti-stolen", Start.AddMinutes(-5)), default)).Refusal);
        Assert.Null((await stage.RunAsync(Context("alice", "jti-other", Start.AddMinutes(-5)), default)).Refusal);
        Assert.Same(EnforceContainment.Revoked, (await stage.RunAsync(Context("carol", "jti-1", Start.AddMinutes(-5)), default)).Refusal);
        Assert.Same(EnforceContainment.Revoked, (await stage.RunAsync(Context("carol", "jti-2", Start), default)).Refusal);
        Assert.Same(EnforceContainment.Revoked, (await stage.RunAsync(Context("carol", null, null), default)).Refusal);
        Assert.Null((await stage.RunAsync(Context("carol", "jti-3", Start.AddSeconds(1)), default)).Refusal);

        // Expired revocations stop applying (the token it named has expired too).
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Null((await stage.RunAsync(Context("alice", "jti-stolen", Start.AddMinutes(-5)), default)).Refusal);
        Assert.Equal(4, logger.Collector.GetSnapshot().Count(r => r.Message.Contains("(revoked)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Catalog_SignerRevoked_NoVersionItSignedServes_LiftedServesAgain()
    {
        var store = await NewStoreAsync();
        var registry = NewRegistry(store);
        await registry.RefreshAsync(default);
        var container = await azurite.CreateContainerAsync("revokedsigner");
        var models = new ModelStore(container, TestPackages.Trusted(), new ModelStoreOptions(), new FakeLogger<ModelStore>());
        await models.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));
        await models.PublishAsync(TestPackages.CreditRisk("credit-risk", "2"));
        var catalog = new ModelCatalog(models, Options.Create(new ModelCatalogOptions()), _time, new FakeLogger<ModelCatalog>(), registry);
        var signer = (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.SignerKeyId;

        await registry.ApplyAsync(new ContainmentEntry(ContainmentKind.RevokeSigner, signer, null, null, ContainmentEntry.OperatorReason, null, Start), default);

        Assert.Equal(RefusalKind.Unavailable, (await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync("credit-risk", null, default))).Kind);
        Assert.Equal(RefusalKind.Unavailable, (await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync("credit-risk", "1", default))).Kind);
        Assert.True(await store.LiftAsync(ContainmentKind.RevokeSigner, signer));
        _time.Advance(TimeSpan.FromSeconds(1));
        await registry.RefreshAsync(default);
        Assert.Equal("2", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);
    }

    [Fact]
    public async Task Store_RevocationKinds_RoundTrip()
    {
        var store = await NewStoreAsync();
        await store.SetAsync(new ContainmentEntry(ContainmentKind.RevokeToken, "0a1b-c2_d3.e4", Start.AddHours(1), null, ContainmentEntry.OperatorReason, null, Start));
        await store.SetAsync(new ContainmentEntry(ContainmentKind.RevokeCaller, "c0ffee", Start.AddHours(24), null, ContainmentEntry.OperatorReason, null, Start));
        await store.SetAsync(new ContainmentEntry(ContainmentKind.RevokeSigner, "00112233445566778899aabbccddeeff", null, null, ContainmentEntry.OperatorReason, null, Start));

        var kinds = (await store.ListAsync()).Select(e => (e.Kind, e.Subject)).Order().ToList();

        Assert.Equal(
            [(ContainmentKind.RevokeToken, "0a1b-c2_d3.e4"), (ContainmentKind.RevokeCaller, "c0ffee"), (ContainmentKind.RevokeSigner, "00112233445566778899aabbccddeeff")],
            kinds);
    }

    private static ModelRequestContext Context(string subject, string? tokenId, DateTimeOffset? issuedAt) =>
        new("req-1", "digits", null) { Caller = new CallerIdentity(subject, []) { TokenId = tokenId, IssuedAt = issuedAt } };

    private static ModelRequestContext Context(string subject) =>
        new("req-1", "digits", null) { Caller = new CallerIdentity(subject, []) };

    private ContainmentRegistry NewRegistry(ContainmentStore store) => new(store, _time, new FakeLogger<ContainmentRegistry>());

    private async Task<ContainmentStore> NewStoreAsync()
    {
        var name = "contain" + Guid.NewGuid().ToString("N")[..12];
        var store = new ContainmentStore(new TableServiceClient(azurite.ConnectionString).GetTableClient(name));
        await store.CreateIfNotExistsAsync();
        return store;
    }

    private static async Task<List<AuditRecord>> ReadRecordsAsync(Azure.Storage.Blobs.BlobContainerClient container)
    {
        var records = new List<AuditRecord>();
        await foreach (var blob in container.GetBlobsAsync())
        {
            if (!blob.Name.EndsWith(".jsonl", StringComparison.Ordinal))
            {
                continue;
            }

            var content = (await container.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString();
            foreach (var line in content.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record, out _))
                {
                    records.Add(record!);
                }
            }
        }

        return records;
    }
}
