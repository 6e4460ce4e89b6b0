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
        time.Advance(TimeSpan.FromSeconds(5));
        var again = await receipts.BeginAsync("job1.0", CancellationToken.None);
        await receipts.CommitAsync("job1.0", CancellationToken.None);
        await receipts.CommitAsync("job1.0", CancellationToken.None);
        var after = await receipts.BeginAsync("job1.0", CancellationToken.None);

        Assert.Equal(ReceiptState.New, first.State);
        Assert.Equal((ReceiptState.Interrupted, first.Since), again);
        Assert.Equal(ReceiptState.Committed, after.State);
    }

    [Fact]
    public async Task InChains_FindsTheKeysRecordOnly()
    {
        var container = await azurite.CreateContainerAsync("receipts");
        var receipts = new AuditReceipts(container, TimeProvider.System);
        await container.GetBlobClient("chains/w1/000000.jsonl").UploadAsync(BinaryData.FromString(
            "{\"seq\":0,\"requestId\":\"job1.1\"}\n{\"seq\":1,\"requestId\":\"job1.10\"}\n"));
        var since = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1);

        Assert.True(await receipts.InChainsAsync("job1.1", since, CancellationToken.None));
        Assert.True(await receipts.InChainsAsync("job1.10", since, CancellationToken.None));
        Assert.False(await receipts.InChainsAsync("job1.2", since, CancellationToken.None));
        Assert.False(await receipts.InChainsAsync("job1.1", DateTimeOffset.UtcNow + TimeSpan.FromHours(1), CancellationToken.None));
    }
}
