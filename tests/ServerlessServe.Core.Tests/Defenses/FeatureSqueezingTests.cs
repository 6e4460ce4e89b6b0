using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Tests.Defenses;

public sealed class FeatureSqueezingTests
{
    [Fact]
    public void BitDepth_OneBit_RoundsToTheEndsOfTheRange()
    {
        var into = new float[5];

        FeatureSqueezing.BitDepth([0, 7.9f, 8, 16, 20], into, bits: 1, max: 16);

        Assert.Equal([0, 0, 16, 16, 16], into);
    }

    [Fact]
    public void BitDepth_ThreeBits_KeepsEightLevels()
    {
        var into = new float[3];

        FeatureSqueezing.BitDepth([1, 2.5f, 16], into, bits: 3, max: 16);

        // Levels are 16·k/7: 1 → k=0 (0.4375 rounds down), 2.5 → k=1 (1.09), 16 → k=7.
        Assert.Equal(0, into[0]);
        Assert.Equal(16f / 7, into[1], 5);
        Assert.Equal(16, into[2]);
    }

    [Fact]
    public void Median_TwoByTwo_UsesThePixelAboveAndLeft()
    {
        // 3×3 image; the window of (y, x) is rows y−1..y and columns x−1..x, edges replicated.
        float[] image = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var into = new float[9];

        FeatureSqueezing.Median(image, into, height: 3, width: 3, size: 2);

        // (0,0): {1,1,1,1} → 1; (1,1): {1,2,4,5} → 3; (2,2): {5,6,8,9} → 7; (0,2): {2,3,2,3} → 2.5.
        Assert.Equal(1, into[0]);
        Assert.Equal(3, into[4]);
        Assert.Equal(7, into[8]);
        Assert.Equal(2.5f, into[2]);
    }

    [Fact]
    public void Median_ThreeByThree_RemovesASaltPixel()
    {
        var image = new float[25];
        image[12] = 16;
        var into = new float[25];

        FeatureSqueezing.Median(image, into, height: 5, width: 5, size: 3);

        Assert.All(into, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Batch_StacksTheRowsThenEachSqueezersCopy()
    {
        var policy = new SqueezePolicy
        {
            Input = "x",
            Output = "p",
            InputMax = 16,
            Image = [2, 2],
            Squeezers = [new Squeezer { Kind = SqueezerKind.BitDepth, Bits = 1 }, new Squeezer { Kind = SqueezerKind.Median, Size = 2 }],
            Threshold = 1,
        };
        float[] rows = [3, 9, 12, 0, 16, 16, 16, 16];

        var batch = FeatureSqueezing.Batch(rows, 4, policy);

        Assert.Equal(24, batch.Length);
        Assert.Equal(rows, batch[..8]);
        Assert.Equal([0, 16, 16, 0, 16, 16, 16, 16], batch[8..16]);
        Assert.Equal([16, 16, 16, 16], batch[20..24]);
    }

    [Fact]
    public void Scores_TakeTheLargestL1DistanceOverTheSqueezers()
    {
        // Two rows, two classes, two squeezers: [row0, row1, sq1(row0), sq1(row1), sq2(row0), sq2(row1)].
        float[] predictions = [1, 0, 0.5f, 0.5f, 0.9f, 0.1f, 0.5f, 0.5f, 0.4f, 0.6f, 0, 1];

        var scores = FeatureSqueezing.Scores(predictions, rows: 2, classes: 2, squeezers: 2);

        Assert.Equal(1.2, scores[0], 5);
        Assert.Equal(1.0, scores[1], 5);
    }

    [Fact]
    public void RequestScore_ARowScoredNaN_MakesTheRequestNaN_EvenBesideCleanRows()
    {
        // Row 0's predictions are NaN (say, a row the model divides by zero on); row 1 is clean.
        float[] predictions = [float.NaN, float.NaN, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f];
        var scores = FeatureSqueezing.Scores(predictions, rows: 2, classes: 2, squeezers: 1);

        Assert.True(double.IsNaN(scores[0]));
        Assert.Equal(0.0, scores[1], 5);
        Assert.True(double.IsNaN(FeatureSqueezing.RequestScore(scores)));
        Assert.True(double.IsNaN(FeatureSqueezing.RequestScore([0.01, double.NaN])));
        Assert.Equal(0.3, FeatureSqueezing.RequestScore([0.1, 0.3, 0.2]));
        Assert.Equal(0.0, FeatureSqueezing.RequestScore([]));
    }
}
