using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

public class CoverageTrackerTests
{
    [Theory]
    [InlineData(10, 1, 1.0)]
    [InlineData(1, 2, 1.5)]
    [InlineData(10, 256, 226.605)]
    public void ExpectedDistinct_UniformOccupancy_MatchesFormula(int bits, int queries, double expected)
    {
        // C(1 - (1 - 1/C)^q); for C = 1024, q = 256: 1024(1 - (1023/1024)^256) = 226.605.
        Assert.Equal(expected, CoverageTracker.ExpectedDistinct(bits, queries), 0.001);
    }

    [Fact]
    public void Observe_SameQueryRepeated_CoverageOfOneCell()
    {
        var planes = new CoveragePlanes(8, 4);
        var tracker = new CoverageTracker(planes.Bits, 8);
        float[] query = [1, 2, 3, 4, 5, 6, 7, 8];

        for (var i = 0; i < 16; i++)
        {
            tracker.Observe(query, planes, 16);
        }

        Assert.Equal(0, tracker.EpochQueries);
        Assert.Equal(1.0 / CoverageTracker.ExpectedDistinct(4, 16), tracker.LastCoverage, 1e-12);
    }
}
