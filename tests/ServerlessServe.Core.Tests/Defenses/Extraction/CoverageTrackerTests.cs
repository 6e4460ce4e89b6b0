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

    [Fact]
    public void CoveragePlanes_Directions_AreOrthonormal()
    {
        var planes = new CoveragePlanes(32, 10);

        for (var j = 0; j < planes.Bits; j++)
        {
            for (var k = 0; k < planes.Bits; k++)
            {
                var dot = 0.0;
                for (var i = 0; i < 32; i++)
                {
                    dot += planes.Direction(j)[i] * (double)planes.Direction(k)[i];
                }

                Assert.Equal(j == k ? 1.0 : 0.0, dot, 1e-6);
            }
        }
    }

    [Fact]
    public void CoveragePlanes_Cell_IsSignPatternOfProjections()
    {
        var planes = new CoveragePlanes(16, 6);
        var centre = Enumerable.Range(0, 16).Select(static i => (float)i).ToArray();

        // centre + Σ ±d_j projects to ±1 on each direction: the cell is the pattern of + signs.
        for (var pattern = 0; pattern < 1 << 6; pattern++)
        {
            var query = (float[])centre.Clone();
            for (var j = 0; j < 6; j++)
            {
                var sign = (pattern >> j & 1) == 1 ? 1f : -1f;
                for (var i = 0; i < 16; i++)
                {
                    query[i] += sign * planes.Direction(j)[i];
                }
            }

            Assert.Equal(pattern, planes.Cell(query, centre));
        }
    }

    [Fact]
    public void CoveragePlanes_FewerFeaturesThanBits_OneBitPerFeature()
    {
        Assert.Equal(3, new CoveragePlanes(3, 10).Bits);
    }
}
