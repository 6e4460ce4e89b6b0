using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Eval.Extraction;

namespace ServerlessServe.Eval.Tests.Extraction;

public sealed class CallerTraceTests
{
    // Five queries: W from the third on; coverage raised at the fourth; the detector ran with δ = 0.9, so W = 0.85 alarmed.
    private static readonly CallerTrace Trace = new(
        "caller",
        false,
        "test",
        [null, null, 0.95, 0.85, 0.8],
        [
            ExtractionSignals.None,
            ExtractionSignals.None,
            ExtractionSignals.None,
            ExtractionSignals.DistanceDistribution | ExtractionSignals.Coverage,
            ExtractionSignals.DistanceDistribution,
        ],
        [null, null, null, 0.95, 0.95])
    {
        OodFlagged = [true, true, false, true, true],
        OutOfDistributionShare = [null, 1.0, 0.667, 0.75, 0.8],
    };

    [Fact]
    public void SignalsAt_AnotherDelta_RecomputesOnlyTheDistanceSignal()
    {
        Assert.Equal(ExtractionSignals.Coverage, Trace.SignalsAt(4, 0.82));
        Assert.Equal(ExtractionSignals.DistanceDistribution, Trace.SignalsAt(5, 0.82));
        Assert.Equal(ExtractionSignals.DistanceDistribution, Trace.SignalsAt(3, 0.96));
        Assert.Equal(ExtractionSignals.None, Trace.SignalsAt(1, 0.99));
    }

    [Fact]
    public void FirstAlarm_ByDelta_FirstQueryRaisingAnySignal()
    {
        Assert.Equal(4, Trace.FirstAlarm(0.9));
        Assert.Equal(3, Trace.FirstAlarm(0.96));
        Assert.Equal(4, Trace.FirstAlarm(0.5));
        Assert.Equal(5, Trace.FirstRaising(ExtractionSignals.DistanceDistribution, 0.82));
        Assert.Null(Trace.FirstRaising(ExtractionSignals.Volume, 0.9));
    }

    [Fact]
    public void MinW_FirstQueriesOrAll()
    {
        Assert.Null(Trace.MinW(2));
        Assert.Equal(0.95, Trace.MinW(3));
        Assert.Equal(0.8, Trace.MinW());
        Assert.Equal(0.95, Trace.MaxCoverage);
        Assert.Equal(5, Trace.Queries);
    }

    [Fact]
    public void MaxOutOfDistributionShare_HighestComputed_NullWithoutAScreen()
    {
        Assert.Equal(1.0, Trace.MaxOutOfDistributionShare);
        Assert.Null((Trace with { OutOfDistributionShare = [] }).MaxOutOfDistributionShare);
    }
}
