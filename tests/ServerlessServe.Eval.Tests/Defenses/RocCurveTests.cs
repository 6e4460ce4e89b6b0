using ServerlessServe.Eval.Defenses;

namespace ServerlessServe.Eval.Tests.Defenses;

public sealed class RocCurveTests
{
    [Fact]
    public void From_Separated_AreaOneThroughTheCorner()
    {
        var curve = RocCurve.From([0.1, 0.2, 0.3], [0.7, 0.8]);

        Assert.Equal(1, curve.Auc);
        Assert.Contains(curve.FalsePositiveRates.Zip(curve.TruePositiveRates), p => p is { First: 0, Second: 1 });
    }

    [Fact]
    public void From_SameScores_AreaOneHalf()
    {
        var curve = RocCurve.From([0.5, 0.5, 0.5], [0.5, 0.5]);

        Assert.Equal(0.5, curve.Auc);
        Assert.Equal([0.0, 1.0], curve.FalsePositiveRates);
    }

    [Fact]
    public void From_Any_StartsAtOriginEndsAtOneOneMonotone()
    {
        var curve = RocCurve.From([0.1, 0.4, 0.35, 0.8], [0.9, 0.3, 0.6]);

        Assert.Equal((0.0, 0.0), (curve.FalsePositiveRates[0], curve.TruePositiveRates[0]));
        Assert.Equal((1.0, 1.0), (curve.FalsePositiveRates[^1], curve.TruePositiveRates[^1]));
        Assert.Equal(curve.FalsePositiveRates.Order(), curve.FalsePositiveRates);
        Assert.Equal(curve.TruePositiveRates.Order(), curve.TruePositiveRates);
        Assert.Equal(8.0 / 12, curve.Auc, 12);
    }
}
