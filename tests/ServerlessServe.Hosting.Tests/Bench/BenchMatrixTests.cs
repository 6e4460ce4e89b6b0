using ServerlessServe.Cli.Commands;

namespace ServerlessServe.Hosting.Tests.Bench;

/// <summary>
/// The bench's measuring loops and round order (found in review, 2026-12-07): the fixed-rate loop's latencies run from
/// when each request was due; refusals are kept apart from served requests; each target follows each other about
/// equally often.
/// </summary>
public sealed class BenchMatrixTests
{
    /// <summary>
    /// A target slower than the rate (50 ms a request, due every 10 ms, one in flight): each request waits longer for
    /// the one before, and its latency counts that wait (about 50, 90, 130, 170, 210 ms). Timed from when each went out,
    /// every latency was about 50 ms: the server's falling behind hidden (coordinated omission).
    /// </summary>
    [Fact]
    public async Task OpenLoop_ServerBehindTheRate_LatenciesCountTheWaitForASlot()
    {
        using var target = new FakeTarget(TimeSpan.FromMilliseconds(50));

        var block = await BenchMatrix.OpenLoopAsync(target, 5, rate: 100, maxInFlight: 1, CancellationToken.None);

        Assert.Equal(5, block.Served.Count);
        Assert.True(block.Served[4] >= 150, string.Join(", ", block.Served));
        Assert.True(block.Served[4] > block.Served[0] + 100, string.Join(", ", block.Served));
    }

    /// <summary>A target that answers at once, at a rate whose due times fall between timer ticks: no latency below zero.</summary>
    [Fact]
    public async Task OpenLoop_ImmediateTarget_NoLatencyBelowZero()
    {
        using var target = new FakeTarget(TimeSpan.Zero);

        var block = await BenchMatrix.OpenLoopAsync(target, 200, rate: 2000, maxInFlight: 4, CancellationToken.None);

        Assert.Equal(200, block.Served.Count);
        Assert.All(block.Served, latency => Assert.True(latency >= 0, latency.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Every other request refused: the refusals are counted apart, never among the served latencies.</summary>
    [Fact]
    public async Task ClosedLoop_RefusalsKeptApartFromServedRequests()
    {
        using var target = new FakeTarget(TimeSpan.Zero, failEvery: 2);

        var block = await BenchMatrix.ClosedLoopAsync(target, 40, concurrency: 1, CancellationToken.None);

        Assert.Equal(20, block.Served.Count);
        Assert.Equal(20, block.Refused.Count);
    }

    /// <summary>
    /// Over 2n rounds each target runs right after each other one equally often (the warm-up's last target, n − 1,
    /// included), and never twice in a row; a plain rotation had raw (0) after the gateway (2) in every round.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void Orders_EachTargetFollowsEachOtherEquallyOften(int targets)
    {
        var orders = BenchMatrix.Orders(2 * targets, targets, targets - 1);

        Assert.All(orders, order => Assert.Equal(Enumerable.Range(0, targets), order.Order()));
        int[] sequence = [targets - 1, .. orders.SelectMany(o => o)];
        var pairs = sequence.Zip(sequence.Skip(1)).ToList();
        Assert.DoesNotContain(pairs, p => p.First == p.Second);
        var counts = pairs.GroupBy(p => p).Select(g => g.Count()).ToList();
        Assert.Equal(targets * (targets - 1), counts.Count);
        Assert.True(counts.Max() - counts.Min() <= 1, string.Join(" ", orders.Select(o => string.Concat(o))));
        Assert.Equal(BenchMatrix.Orders(2 * targets, targets, targets - 1), orders);
    }

    private sealed class FakeTarget(TimeSpan work, int failEvery = 0) : BenchMatrix.ITarget
    {
        private int _sent;

        public string Name => "fake";

        public async Task<bool> SendAsync(CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _sent);
            if (work > TimeSpan.Zero)
            {
                await Task.Delay(work, cancellationToken);
            }

            return failEvery == 0 || n % failEvery != 0;
        }

        public void Dispose()
        {
        }
    }
}
