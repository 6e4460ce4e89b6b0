using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>A chunk's committed receipt, written without holding the audit activity, on real Azurite.</summary>
public sealed class ReceiptCommitsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Start_ReturnsAtOnce_ReceiptCommittedOnceFlushed()
    {
        var container = await azurite.CreateContainerAsync("receipts");
        var receipts = new AuditReceipts(container, TimeProvider.System);
        var logger = new FakeLogger<ReceiptCommits>();
        var commits = new ReceiptCommits(receipts, logger);
        Assert.Equal(ReceiptState.New, await StateOfAsync(receipts, "job1.c0"));

        commits.Start("job1.c0");
        commits.Start("job1.c0");
        await commits.StopAsync(default);

        Assert.Equal(ReceiptState.Committed, await StateOfAsync(receipts, "job1.c0"));
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task WriteFails_Logged_FlushDoesNotThrow()
    {
        var container = await azurite.CreateContainerAsync("receipts");
        var receipts = new AuditReceipts(container, TimeProvider.System);
        Assert.Equal(ReceiptState.New, await StateOfAsync(receipts, "job2.c0"));
        var logger = new FakeLogger<ReceiptCommits>();
        var commits = new ReceiptCommits(receipts, logger);

        // The container is gone when the marker is written (404): the write fails, the activity was not held for it.
        await container.DeleteAsync();
        commits.Start("job2.c0");
        await commits.FlushAsync(default);

        var failure = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 8006);
        Assert.Equal(LogLevel.Warning, failure.Level);
        Assert.Contains("job2.c0", failure.Message, StringComparison.Ordinal);
    }

    // One attempt at the key, let go at once.
    private static async Task<ReceiptState> StateOfAsync(AuditReceipts receipts, string key)
    {
        await using var attempt = await receipts.BeginAsync(key, default);
        return attempt.State;
    }
}
