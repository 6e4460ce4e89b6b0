using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

/// <summary>
/// The out-of-distribution signal: the share of a caller's latest screened rows the OOD screen flagged, over a bounded
/// window, against the threshold once the minimum is held (<see cref="ExtractionDetector.ObserveScreened"/>).
/// </summary>
public class OutOfDistributionSignalTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ObserveScreened_EveryRowFlagged_RaisedAtTheMinimumRows_NotBefore()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(SyntheticCallers.Dimension);

        var verdicts = Enumerable.Range(0, 60).Select(_ => detector.ObserveScreened(state, 1, 1)).ToList();

        Assert.All(verdicts.Take(49), static v => Assert.Equal((ExtractionSignals.None, (double?)null), (v.Signals, v.OutOfDistributionShare)));
        Assert.Equal(ExtractionSignals.OutOfDistribution, verdicts[49].Signals);
        Assert.Equal((1.0, 50, 0.2), (verdicts[49].OutOfDistributionShare!.Value, verdicts[49].Screened, verdicts[49].OutOfDistributionThreshold));
        Assert.Equal(ExtractionSignals.OutOfDistribution, state.RaisedEver);
        Assert.Equal(0, state.QueryCount);                             // screened rows are not queries
        Assert.Equal(0, verdicts[^1].VolumeCount);
    }

    [Theory]
    [InlineData(9, false)]
    [InlineData(10, true)]
    public void ObserveScreened_ShareAtTheThreshold_Raises_JustBelow_DoesNot(int flagged, bool raised)
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(4);

        var verdict = detector.ObserveScreened(state, 50, flagged);

        Assert.Equal(flagged / 50.0, verdict.OutOfDistributionShare);
        Assert.Equal(raised, verdict.Signals.HasFlag(ExtractionSignals.OutOfDistribution));
    }

    [Fact]
    public void ObserveScreened_BenignShare_NeverRaisedOver2000Rows()
    {
        // One row in a hundred flagged (the digits screen flags 0.1–0.6 % of held-out digits), in requests of 1..8 rows.
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(4);
        var random = new Random(3);
        var sent = 0;
        var verdicts = new List<ExtractionVerdict>();

        while (sent < 2000)
        {
            var rows = random.Next(1, 9);
            var flagged = Enumerable.Range(sent, rows).Count(static i => i % 100 == 99);
            verdicts.Add(detector.ObserveScreened(state, rows, flagged));
            sent += rows;
        }

        Assert.Equal(ExtractionSignals.None, state.RaisedEver);
        Assert.Equal(200, verdicts[^1].Screened);
        Assert.InRange(verdicts[^1].OutOfDistributionShare!.Value, 0.005, 0.015);
    }

    [Fact]
    public void ObserveScreened_FlagsStop_ShareFallsBelowAsTheWindowSlides_RaisedEverKept()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(4);

        detector.ObserveScreened(state, 60, 60);
        var clean = Enumerable.Range(0, 200).Select(_ => detector.ObserveScreened(state, 1, 0)).ToList();

        // The window fills up with 140 clean rows (60 of 200 flagged), then each clean row pushes out a flagged one: 40
        // of 200 (0.2) after 160, below after 161.
        Assert.All(clean.Take(160), static v => Assert.True(v.Signals.HasFlag(ExtractionSignals.OutOfDistribution)));
        Assert.Equal(ExtractionSignals.None, clean[160].Signals);
        Assert.Equal(0.0, clean[^1].OutOfDistributionShare);
        Assert.Equal(ExtractionSignals.OutOfDistribution, state.RaisedEver);
    }

    [Fact]
    public void ObserveScreened_RequestLargerThanTheWindow_WindowHoldsItsShare()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(4);

        var verdict = detector.ObserveScreened(state, 100_000, 25_000);

        Assert.Equal(200, verdict.Screened);
        Assert.Equal(0.25, verdict.OutOfDistributionShare);
    }

    [Fact]
    public void Observe_QueriesWhileTheShareHolds_CarryTheSignal_CountedOnceInRaisedEver()
    {
        var model = new SyntheticCallers(5);
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(SyntheticCallers.Dimension);

        detector.ObserveScreened(state, 50, 40);
        var verdict = detector.Observe(state, model.Benign().First(), 0, Start);

        Assert.Equal(ExtractionSignals.OutOfDistribution, verdict.Signals);
        Assert.Equal(0.8, verdict.OutOfDistributionShare);
        Assert.Equal(ExtractionSignals.OutOfDistribution, verdict.RaisedEver);
        Assert.Equal(verdict.Signals, detector.Summarize(state).Signals);
    }

    [Fact]
    public void ObserveScreened_InvalidCounts_ThrowAndLeaveStateUnchanged()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(4);
        detector.ObserveScreened(state, 3, 1);
        var before = detector.Serialize(state);

        Assert.Throws<ArgumentOutOfRangeException>(() => detector.ObserveScreened(state, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => detector.ObserveScreened(state, 2, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => detector.ObserveScreened(state, 2, 3));
        Assert.Equal(before, detector.Serialize(state));
    }

    [Theory]
    [InlineData(10, 3, "0001001001")]
    [InlineData(7, 7, "1111111")]
    [InlineData(5, 0, "00000")]
    [InlineData(4, 2, "0101")]
    public void ScreenWindow_RequestsFlaggedRows_SpreadEvenly(int rows, int flagged, string expected)
    {
        var window = new ScreenWindow(16);

        window.Add(rows, flagged);

        Assert.Equal(expected, string.Concat(Enumerable.Range(0, window.Count).Select(i => window[i] ? '1' : '0')));
        Assert.Equal(flagged, window.Flagged);
    }

    [Fact]
    public void ScreenWindow_Full_OldestRowDropsOut_CountOfFlaggedFollows()
    {
        var window = new ScreenWindow(70);
        for (var i = 0; i < 70; i++)
        {
            window.Add(i % 2 == 0);
        }

        window.Add(false);                                             // row 0 (flagged) drops out
        window.Add(false);                                             // row 1 (not flagged) drops out

        Assert.Equal((70, 34), (window.Count, window.Flagged));
        Assert.Equal(
            Enumerable.Range(2, 68).Select(static i => i % 2 == 0).Concat([false, false]),
            Enumerable.Range(0, 70).Select(i => window[i]));
    }
}
