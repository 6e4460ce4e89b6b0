using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

public class CoveragePlanesTests
{
    [Fact]
    public void Constructor_Directions_AreOrthonormal()
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
    public void Cell_QueryAroundCentre_IsSignPatternOfProjections()
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
    public void Constructor_FewerFeaturesThanBits_OneBitPerFeature()
    {
        Assert.Equal(3, new CoveragePlanes(3, 10).Bits);
    }
}
