using ServerlessServe.Eval.Defenses;

namespace ServerlessServe.Eval.Tests.Defenses;

public sealed class ThresholdsTests
{
    [Theory]
    [InlineData(1352, 0.05)]
    [InlineData(445, 0.05)]
    [InlineData(100, 0.05)]
    [InlineData(20, 0.01)]
    public void ForFalsePositiveRate_DistinctScores_FlagsExactlyTheFloorOfTheTarget(int count, double rate)
    {
        var scores = Enumerable.Range(0, count).Select(i => (i * 7919 % count) / (double)count).ToArray();

        var threshold = Thresholds.ForFalsePositiveRate(scores, rate);

        Assert.Equal((int)Math.Floor(rate * count), Thresholds.Flagged(scores, threshold).Count);
    }

    [Fact]
    public void ForFalsePositiveRate_TiesAtTheCut_NeverFlagsMoreThanTheTarget()
    {
        double[] scores = [.. Enumerable.Repeat(0.1, 90), .. Enumerable.Repeat(0.5, 10)];

        var threshold = Thresholds.ForFalsePositiveRate(scores, 0.05);

        Assert.Equal(0.5, threshold);
        Assert.Equal(0, Thresholds.Flagged(scores, threshold).Count);
    }

    [Theory]
    [InlineData(0.21591, 0.216)]
    [InlineData(0.2160, 0.216)]
    [InlineData(1.19441, 1.1945)]
    [InlineData(0, 0)]
    public void RoundUp_Value_NextFourDecimalStepAtOrAbove(double value, double expected)
    {
        var rounded = Thresholds.RoundUp(value);

        Assert.Equal(expected, rounded);
        Assert.True(rounded >= value);
    }

    [Fact]
    public void Flags_AsTheGateway_AboveOrNaNOnly()
    {
        Assert.False(Thresholds.Flags(0.2, 0.2));
        Assert.True(Thresholds.Flags(0.20001, 0.2));
        Assert.True(Thresholds.Flags(double.NaN, 0.2));
    }
}
