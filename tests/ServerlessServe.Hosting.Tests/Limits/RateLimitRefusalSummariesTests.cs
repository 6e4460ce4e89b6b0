using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Hosting.Limits;

namespace ServerlessServe.Hosting.Tests.Limits;

public sealed class RateLimitRefusalSummariesTests
{
    [Fact]
    public async Task SummaryThatCannotBeWritten_FoldedIntoTheNext_NothingLost()
    {
        var tally = new RateLimitRefusalTally();
        var events = new RecordingSecurityEvents { AuditUnavailable = true };
        var logger = new FakeLogger<RateLimitRefusalSummaries>();
        var summaries = new RateLimitRefusalSummaries(tally, events, Microsoft.Extensions.Options.Options.Create(new LimitOptions()), TimeProvider.System, logger);
        Assert.False(tally.TryCount("caller-p", "limit"));
        Assert.True(tally.TryCount("caller-p", "limit"));
        Assert.True(tally.TryCount("caller-p", "limit"));

        // The audit trail is down: nothing written, the counts go back, and the operator is told how many wait.
        Assert.Equal(0, await summaries.WriteAsync(default));
        var warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 1550);
        Assert.Contains("2 rate-limited", warning.Message, StringComparison.Ordinal);

        // The restored caller's next refusal is counted with them, and the next summary carries all of them.
        Assert.True(tally.TryCount("caller-p", "misses"));
        events.AuditUnavailable = false;
        Assert.Equal(1, await summaries.WriteAsync(default));
        var summary = Assert.Single(events.Raised);
        Assert.Equal((SecurityEventKinds.RateLimitRefusals, "caller-p", "none"), (summary.Kind, summary.Caller, summary.Action.Name));
        Assert.Equal(new Dictionary<string, string> { ["limit"] = "2", ["misses"] = "1", ["intervalSeconds"] = "60" }, summary.Evidence);
        Assert.Equal(0, await summaries.WriteAsync(default));
    }
}
