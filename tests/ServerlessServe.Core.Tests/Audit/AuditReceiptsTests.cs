using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>
/// Receipts make an audit record exactly-once for work that runs at least once: a first attempt is new, a second one
/// finds the first (interrupted) and looks in the chains for its record, and a committed key is never written again.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuditReceiptsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Begin_ThenAgain_ThenCommitted()
    {
        var container = await azurite.CreateContainerAsync("receipts");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        var receipts = new AuditReceipts(container, time);

        var first = await receipts.BeginAsync("job1.0", CancellationToken.None);
        await first.DisposeAsync();
        time.Advance(TimeSpan.FromSeconds(5));
        var again = await receipts.BeginAsync("job1.0", CancellationToken.None);
        await again.DisposeAsync();
        await receipts.CommitAsync("job1.0", CancellationToken.None);
        await receipts.CommitAsync("job1.0", CancellationToken.None);
        await using var after = await receipts.BeginAsync("job1.0", CancellationToken.None);

        Assert.Equal(ReceiptState.New, first.State);
        Assert.Equal((ReceiptState.Interrupted, first.Since), (again.State, again.Since));
        Assert.Equal((ReceiptState.Committed, first.Since), (after.State, after.Since));
    }

    /// <summary>
    /// A step re-run after its records were committed (its result lost, a crash after the commit marker) signs the
    /// receipts asked for from the records in the chains: the look is bounded by when the first attempt began, as for an
    /// interrupted one. (Found in review: a committed key gave no time, and the look threw, failing every retry of the
    /// step and so every job that asked for receipts.)
    /// </summary>
    [Fact]
    public async Task Committed_TheRecordsAreFoundFromWhenTheFirstAttemptBegan()
    {
        var container = await azurite.CreateContainerAsync("receipts");
        var receipts = new AuditReceipts(container, TimeProvider.System);
        await (await receipts.BeginAsync("job2.c0", CancellationToken.None)).DisposeAsync();
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        await using (var sink = new BlobAuditSink(container, AuditTestData.Options(key), new Microsoft.Extensions.Logging.Testing.FakeLogger<BlobAuditSink>(), TimeProvider.System))
        {
            sink.Start();
            await sink.AppendAsync(AuditTestData.Event(1), CancellationToken.None);
        }

        await receipts.CommitAsync("job2.c0", CancellationToken.None);

        await using var attempt = await receipts.BeginAsync("job2.c0", CancellationToken.None);
        var (state, since) = attempt;
        var found = await receipts.FindRecordsAsync(["req-1"], "infer", since, CancellationToken.None);

        Assert.Equal(ReceiptState.Committed, state);
        Assert.Equal("req-1", Assert.Single(found).Value.RequestId);
        Assert.Single(await receipts.FindRecordsAsync(["req-1"], "infer", default, CancellationToken.None)); // an unknown time bounds nothing
    }

    /// <summary>A container that could not be created (storage not up yet) is tried again by the next call, not failed forever.</summary>
    [Fact]
    public async Task ContainerCreationFailed_TheNextCallTriesAgain()
    {
        var down = new StorageDownPolicy();
        var container = azurite.GetContainer(configure: o =>
        {
            o.Retry.MaxRetries = 0;
            o.AddPolicy(down, Azure.Core.HttpPipelinePosition.PerCall);
        });
        var receipts = new AuditReceipts(container, TimeProvider.System);

        await Assert.ThrowsAnyAsync<Exception>(() => receipts.BeginAsync("job3.c0", CancellationToken.None));
        down.Up = true;
        await using var attempt = await receipts.BeginAsync("job3.c0", CancellationToken.None);

        Assert.Equal(ReceiptState.New, attempt.State);
    }

    /// <summary>
    /// Two live attempts at one key (the same step delivered twice after a crash, both running): the second waits until
    /// the first lets go, then finds what it did (committed) instead of appending the records again. (Found in review:
    /// both saw the key begun, looked in the chains before either had appended, and both appended.)
    /// </summary>
    [Fact]
    public async Task SecondLiveAttempt_WaitsForTheFirst_ThenSeesItCommitted()
    {
        var container = await azurite.CreateContainerAsync("receipts");
        var receipts = new AuditReceipts(container, TimeProvider.System);
        var first = await receipts.BeginAsync("job4.c0", CancellationToken.None);

        var second = receipts.BeginAsync("job4.c0", CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(second.IsCompleted);
        await receipts.CommitAsync("job4.c0", CancellationToken.None);
        await first.DisposeAsync();
        await using var then = await second.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ReceiptState.New, first.State);
        Assert.Equal((ReceiptState.Committed, first.Since), (then.State, then.Since));
    }

    /// <summary>An attempt whose process died lets go when its lease lapses; one that waits longer than allowed gives up.</summary>
    [Fact]
    public async Task KeyHeldPastTheWait_TimesOut()
    {
        var container = await azurite.CreateContainerAsync("receipts");
        var receipts = new AuditReceipts(container, TimeProvider.System);
        await using var held = await receipts.BeginAsync("job5.c0", CancellationToken.None);

        await Assert.ThrowsAsync<TimeoutException>(() => receipts.BeginAsync("job5.c0", CancellationToken.None, wait: TimeSpan.FromSeconds(1)));
    }

    /// <summary>
    /// A live attempt renews its key's lease every third of it, so a step that runs longer than one lease keeps the key
    /// (before, a second run could take it after 60 s and append the same records), and says when it has lost the key.
    /// </summary>
    [Fact]
    public async Task LiveAttempt_RenewsItsLease_AndSaysWhenItIsLost()
    {
        var renewals = new LeaseRenewals();
        var container = azurite.GetContainer(configure: o => o.AddPolicy(renewals, Azure.Core.HttpPipelinePosition.PerCall));
        await container.CreateAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var receipts = new AuditReceipts(container, time);
        var attempt = await receipts.BeginAsync("job6.c0", CancellationToken.None);

        // Four minutes of a step's run, on the attempt's clock: renewed all along, never lost.
        await AdvanceUntilAsync(time, () => renewals.Count >= 12);
        Assert.False(attempt.Lost.IsCancellationRequested);

        // Broken by someone else (or lapsed and taken): the next renewal is refused and the attempt knows.
        await container.GetBlobClient(AuditReceipts.Prefix + "job6.c0/begun").GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
        await AdvanceUntilAsync(time, () => attempt.Lost.IsCancellationRequested);

        // Disposed: no more renewals.
        await attempt.DisposeAsync();
        var sent = renewals.Count;
        time.Advance(AuditReceipts.AttemptLease);
        await Task.Delay(200);
        Assert.Equal(sent, renewals.Count);
    }

    // Moves the clock a third of a lease at a time (each move wakes the renewal loop once it waits again) until done.
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> done)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !done(); await Task.Delay(50))
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            time.Advance(AuditReceipts.AttemptLease / 3);
        }
    }

    /// <summary>Counts lease renewals sent (whatever their answer).</summary>
    private sealed class LeaseRenewals : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (message.Request.Headers.TryGetValue("x-ms-lease-action", out var action) && action == "renew")
            {
                Interlocked.Increment(ref _count);
            }
        }
    }

    /// <summary>
    /// Only the request's own record counts as found: not text that names its id (a security record's evidence names
    /// the request that raised it), not a record of another operation, not a line altered after it was hashed, and not
    /// a record filed under another writer's folder. Found in review 2026-12-07: a byte search took an extraction alarm
    /// of a job item for the item's record, so a re-run of the audit step skipped it and released the item unaudited.
    /// </summary>
    [Fact]
    public async Task FindRecords_TheRequestsOwnRecordOnly()
    {
        var container = await azurite.CreateContainerAsync("receipts");
        var receipts = new AuditReceipts(container, TimeProvider.System);
        var since = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1);
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        string writer;
        await using (var sink = new BlobAuditSink(container, AuditTestData.Options(key), new Microsoft.Extensions.Logging.Testing.FakeLogger<BlobAuditSink>(), TimeProvider.System))
        {
            sink.Start();
            await sink.AppendAsync(AuditTestData.Event(1) with { RequestId = "job1.1", Operation = "job" }, CancellationToken.None);
            await sink.AppendAsync(AuditTestData.Event(2) with { RequestId = "job1.2", Operation = "infer" }, CancellationToken.None);
            await sink.AppendAsync(AuditTestData.Event(3) with { RequestId = "job1.3", Operation = "job" }, CancellationToken.None);
            await sink.AppendAsync(AuditTestData.Event(4) with { RequestId = "job1.4", Operation = "job" }, CancellationToken.None);
            await sink.AppendAsync(AuditTestData.Event(5) with
            {
                RequestId = "alarm-1",
                Operation = AuditEvent.SecurityOperation,
                Security = new AuditSecurity("extraction", "none", new Dictionary<string, string> { ["requestId"] = "job1.5" }),
            }, CancellationToken.None);
            writer = sink.WriterId;
        }

        var segment = container.GetBlobClient("chains/" + writer + "/000000.jsonl");
        var lines = (await segment.DownloadContentAsync()).Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // job1.3's line altered after it was hashed; job1.4's copied under another writer's folder (and removed here).
        lines[2] = lines[2].Replace("\"outcome\":\"released\"", "\"outcome\":\"refused\"", StringComparison.Ordinal);
        var moved = lines[3];
        await container.GetBlobClient("chains/other/000000.jsonl").UploadAsync(BinaryData.FromString(moved + "\n"));
        await container.DeleteBlobAsync(segment.Name);
        await container.GetBlobClient(segment.Name).UploadAsync(BinaryData.FromString(string.Join('\n', lines.Where(l => l != moved)) + "\n"));

        var found = await receipts.FindRecordsAsync(["job1.1", "job1.2", "job1.3", "job1.4", "job1.5"], "job", since, CancellationToken.None);

        Assert.Contains("\"outcome\":\"refused\"", lines[2], StringComparison.Ordinal);
        Assert.Contains("\"requestId\":\"job1.5\"", lines[4], StringComparison.Ordinal);
        Assert.Equal(["job1.1"], found.Keys);
        Assert.Equal("job", found["job1.1"].Operation);
        Assert.Empty(await receipts.FindRecordsAsync(["job1.1"], "job", DateTimeOffset.UtcNow + TimeSpan.FromHours(1), CancellationToken.None));
    }
}
