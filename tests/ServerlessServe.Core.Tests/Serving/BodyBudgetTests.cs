using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Tests.Serving;

/// <summary>
/// The one count of request bodies both apps use (<see cref="BodyBudget"/>): the gateway's with a caller's share
/// (<see cref="RequestLimitsTests"/>), the inference app's without one.
/// </summary>
public sealed class BodyBudgetTests
{
    private static readonly Refusal Busy = Refusal.Unavailable("busy");

    [Fact]
    public void WithoutACallersShare_OnlyTheLimitRefuses_ARequestAloneIsLetIn_NoCallerIsKept()
    {
        var budget = new BodyBudget(100, Busy);

        // Alone, a request may pass the limit: nothing else is counted.
        using (var alone = budget.Reserve())
        {
            Assert.Null(alone.TryGrow(150));
            Assert.Null(alone.TryGrow(50));
            Assert.Equal(200, budget.Held);
        }

        Assert.Equal(0, budget.Held);
        var first = budget.Reserve();
        var second = budget.Reserve();
        Assert.Null(first.TryGrow(60));
        Assert.Null(second.TryGrow(40));
        Assert.Same(Busy, second.TryGrow(1));
        Assert.Equal(40, second.Held);
        Assert.Equal(0, budget.Callers);

        // Given back once, however often disposed; a disposed count grows no more and refuses nothing.
        first.Dispose();
        first.Dispose();
        Assert.Null(first.TryGrow(1000));
        Assert.Equal(40, budget.Held);
        Assert.Null(second.TryGrow(60));
        second.Dispose();
        Assert.Equal(0, budget.Held);
    }

    [Fact]
    public void WithACallersShare_ItsRefusalComesFirst_AndACallerWithNothingCountedLeavesNoEntry()
    {
        var tooMuch = Refusal.RateLimited("too much");
        var budget = new BodyBudget(100, Busy, callerShare: 30, callerRefusal: tooMuch);
        Assert.Throws<ArgumentNullException>(() => budget.Reserve());

        using var a1 = budget.Reserve("a");
        using var a2 = budget.Reserve("a");
        Assert.Null(a1.TryGrow(25));
        Assert.Equal(1, budget.Callers);
        Assert.Same(tooMuch, a2.TryGrow(10));
        Assert.Equal(25, budget.Held);

        using var b = budget.Reserve("b");
        Assert.Null(b.TryGrow(30));
        using var c = budget.Reserve("c");
        Assert.Null(c.TryGrow(30));
        using var d = budget.Reserve("d");
        Assert.Same(Busy, d.TryGrow(20));
        Assert.Equal(3, budget.Callers);

        a1.Dispose();
        b.Dispose();
        c.Dispose();
        Assert.Equal(0, budget.Callers);
        Assert.Equal(0, budget.Held);
    }

    [Fact]
    public void Arguments_AShareWithoutItsRefusalOrALimitOfNothing_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BodyBudget(0, Busy));
        Assert.Throws<ArgumentNullException>(() => new BodyBudget(100, Busy, callerShare: 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BodyBudget(100, Busy, callerShare: 0, callerRefusal: Busy));
        Assert.Throws<ArgumentOutOfRangeException>(() => budgetOf(100).Reserve().TryGrow(-1));

        static BodyBudget budgetOf(long limit) => new(limit, Busy);
    }
}
