using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

public class FeatureHashingTests
{
    [Fact]
    public void TryReduce_RandomPairs_SquaredDistancePreservedOnAverage()
    {
        var random = new Random(3);
        var ratios = new List<double>();
        var table = FeatureHashing.Table(4096, 256);
        Span<float> left = stackalloc float[256];
        Span<float> right = stackalloc float[256];

        for (var pair = 0; pair < 200; pair++)
        {
            var a = Enumerable.Range(0, 4096).Select(_ => (float)random.NextDouble()).ToArray();
            var b = Enumerable.Range(0, 4096).Select(_ => (float)random.NextDouble()).ToArray();
            Assert.True(FeatureHashing.TryReduce(a, left, table));
            Assert.True(FeatureHashing.TryReduce(b, right, table));
            var reduced = 0.0;
            for (var i = 0; i < 256; i++)
            {
                reduced += (left[i] - right[i]) * (double)(left[i] - right[i]);
            }

            var exact = a.Zip(b, static (x, y) => (double)(x - y) * (x - y)).Sum();
            ratios.Add(reduced / exact);
        }

        // E[ratio] = 1; with 16 features per bucket its spread is about sqrt(2/256) ≈ 0.09.
        Assert.InRange(ratios.Average(), 0.97, 1.03);
        Assert.All(ratios, static r => Assert.InRange(r, 0.6, 1.4));
    }

    [Fact]
    public void TryReduce_SameLength_CopiesExactly()
    {
        float[] input = [1.5f, -2f, 3.25f];
        var output = new float[3];

        Assert.True(FeatureHashing.TryReduce(input, output, default));

        Assert.Equal(input, output);
    }

    [Theory]
    [InlineData(3, float.NaN)]
    [InlineData(10, float.NaN)]
    [InlineData(3, float.PositiveInfinity)]
    [InlineData(10, float.NegativeInfinity)]
    public void TryReduce_NonFinite_ReturnsFalse(int outputLength, float bad)
    {
        var input = new float[10];
        input[4] = bad;

        Assert.False(FeatureHashing.TryReduce(input, new float[outputLength], FeatureHashing.Table(10, outputLength)));
    }

    [Fact]
    public void TryReduce_HugeValues_ClampedToHalfRange()
    {
        var input = Enumerable.Repeat(float.MaxValue, 64).ToArray();
        var allPositive = FeatureHashing.Table(64, 1).Select(static e => e & int.MaxValue).ToArray();
        var reduced = new float[1];
        var copied = new float[64];

        Assert.True(FeatureHashing.TryReduce(input, reduced, allPositive));
        Assert.True(FeatureHashing.TryReduce(input, copied, default));

        Assert.Equal(GrowingSet.HalfMax, reduced[0]);
        Assert.All(copied, static v => Assert.Equal(GrowingSet.HalfMax, v));
    }

    [Fact]
    public void Table_BucketsInRangeSignsMixed()
    {
        var table = FeatureHashing.Table(10_000, 100);

        Assert.All(table, static e => Assert.InRange(e & int.MaxValue, 0, 99));
        Assert.InRange(table.Count(static e => e < 0), 4700, 5300);
        Assert.All(table.GroupBy(static e => e & int.MaxValue), static g => Assert.InRange(g.Count(), 60, 140));
    }

    [Fact]
    public void TryReduce_Deterministic()
    {
        var input = Enumerable.Range(0, 1000).Select(static i => (float)Math.Sin(i)).ToArray();
        var first = new float[64];
        var second = new float[64];

        FeatureHashing.TryReduce(input, first, FeatureHashing.Table(1000, 64));
        FeatureHashing.TryReduce(input, second, FeatureHashing.Table(1000, 64));

        Assert.Equal(first, second);
    }
}
