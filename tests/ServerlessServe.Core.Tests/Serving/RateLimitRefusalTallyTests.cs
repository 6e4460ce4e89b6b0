using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Tests.Serving;

public sealed class RateLimitRefusalTallyTests
{
    [Fact]
    public void FirstRefusalOfAnInterval_Audited_TheRestCountedByStage()
    {
        var tally = new RateLimitRefusalTally();

        Assert.False(tally.TryCount("a", "limit"));
        Assert.True(tally.TryCount("a", "limit"));
        Assert.True(tally.TryCount("a", "limit"));
        Assert.True(tally.TryCount("a", "misses"));

        // Another caller's first refusal is its own record.
        Assert.False(tally.TryCount("b", "contain"));

        var drained = Assert.Single(tally.Drain());
        Assert.Equal("a", drained.Caller);
        Assert.Equal(new Dictionary<string, long> { ["limit"] = 2, ["misses"] = 1 }, drained.Counts);
    }

    [Fact]
    public void StagesOfItsOwn_OnlyThoseCounted()
    {
        // The admin app's tally counts its gate's reasons, and none of the gateway's.
        var tally = new RateLimitRefusalTally(stages: ["admin-denied", "admin-revoked"]);

        Assert.False(tally.TryCount("a", "admin-denied"));
        Assert.True(tally.TryCount("a", "admin-denied"));
        Assert.True(tally.TryCount("a", "admin-revoked"));
        Assert.False(tally.TryCount("a", "limit"));

        Assert.Equal(new Dictionary<string, long> { ["admin-denied"] = 1, ["admin-revoked"] = 1 }, Assert.Single(tally.Drain()).Counts);
        var gateway = new RateLimitRefusalTally();
        Assert.False(gateway.TryCount("a", "limit"));
        Assert.False(gateway.TryCount("a", "admin-denied"));
    }

    [Fact]
    public void FirstPerStage_EachStagesFirstAudited_ForgetTakesBackAMarkNotCounted()
    {
        var tally = new RateLimitRefusalTally(stages: ["denied", "revoked"], firstPerStage: true);

        Assert.False(tally.TryCount("a", "denied"));
        Assert.True(tally.TryCount("a", "denied"));
        Assert.False(tally.TryCount("a", "revoked"));

        // The first revoked refusal's record failed: its mark is taken back, so the next one is audited one by one.
        tally.Forget("a", "revoked");
        Assert.False(tally.TryCount("a", "revoked"));
        Assert.True(tally.TryCount("a", "revoked"));

        // A mark with counts is kept: those counted stay in the summary.
        tally.Forget("a", "denied");
        Assert.True(tally.TryCount("a", "denied"));

        Assert.Equal(new Dictionary<string, long> { ["denied"] = 2, ["revoked"] = 1 }, Assert.Single(tally.Drain()).Counts);
    }

    [Fact]
    public void Forget_AGatewayCallersFirstRefusal_TheNextAuditedAgain()
    {
        var tally = new RateLimitRefusalTally();
        Assert.False(tally.TryCount("a", "limit"));

        tally.Forget("a", "limit");

        Assert.False(tally.TryCount("a", "limit"));
        Assert.True(tally.TryCount("a", "limit"));
    }

    [Fact]
    public void Drain_StartsANewInterval_TheNextRefusalAuditedAgain()
    {
        var tally = new RateLimitRefusalTally();
        Assert.False(tally.TryCount("a", "budget"));
        Assert.True(tally.TryCount("a", "budget"));

        Assert.Single(tally.Drain());
        Assert.Empty(tally.Drain());
        Assert.False(tally.TryCount("a", "budget"));
        Assert.True(tally.TryCount("a", "budget"));
    }

    [Theory]
    [InlineData("infer")]
    [InlineData("admit")]
    [InlineData("audit")]
    [InlineData("")]
    public void StagesThatAreNotTheCallersOwnLimits_AlwaysAudited(string stage)
    {
        var tally = new RateLimitRefusalTally();
        for (var i = 0; i < 5; i++)
        {
            Assert.False(tally.TryCount("a", stage));
        }

        Assert.Empty(tally.Drain());
    }

    [Fact]
    public void Disabled_EveryRefusalAudited()
    {
        var tally = new RateLimitRefusalTally(enabled: false);
        for (var i = 0; i < 5; i++)
        {
            Assert.False(tally.TryCount("a", "limit"));
        }

        Assert.Empty(tally.Drain());
    }

    [Fact]
    public void FullTable_NewCallersAuditedOneByOne_NothingUncounted()
    {
        var tally = new RateLimitRefusalTally(capacity: 2);
        Assert.False(tally.TryCount("a", "limit"));
        Assert.False(tally.TryCount("b", "limit"));

        // A third caller finds no room: each of its refusals is audited, none is counted away.
        for (var i = 0; i < 5; i++)
        {
            Assert.False(tally.TryCount("c", "limit"));
        }

        Assert.True(tally.TryCount("a", "limit"));
        var drained = Assert.Single(tally.Drain());
        Assert.Equal(("a", 1L), (drained.Caller, drained.Counts["limit"]));
    }

    [Fact]
    public void Restore_FoldsUnwrittenCountsIntoTheNextSummary()
    {
        var tally = new RateLimitRefusalTally();
        Assert.False(tally.TryCount("a", "limit"));
        Assert.True(tally.TryCount("a", "limit"));
        var unwritten = Assert.Single(tally.Drain());

        Assert.False(tally.TryCount("a", "limit"));
        Assert.True(tally.TryCount("a", "limit"));
        tally.Restore(unwritten.Caller, unwritten.Counts);
        tally.Restore("b", new Dictionary<string, long> { ["misses"] = 3, ["contain"] = 0 });

        var drained = tally.Drain().ToDictionary(d => d.Caller, d => d.Counts);
        Assert.Equal(2, drained["a"]["limit"]);
        Assert.Equal(new Dictionary<string, long> { ["misses"] = 3 }, drained["b"]);
    }

    [Fact]
    public async Task ConcurrentRefusalsAndDrains_EveryRefusalEitherAuditedOrCountedOnce()
    {
        var tally = new RateLimitRefusalTally();
        var audited = 0L;
        var counted = 0L;
        using var stop = new CancellationTokenSource();
        var drainer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                counted += tally.Drain().Sum(d => d.Counts.Values.Sum());
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                if (!tally.TryCount("caller-" + (i % 7), "limit"))
                {
                    Interlocked.Increment(ref audited);
                }
            }
        })));
        await stop.CancelAsync();
        await drainer;
        counted += tally.Drain().Sum(d => d.Counts.Values.Sum());

        Assert.Equal(4 * 50_000, audited + counted);
        Assert.True(audited >= 7);
    }
}
