using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Eval.Defenses;
using ServerlessServe.Eval.Extraction;
using ServerlessServe.Eval.Tests.Fixtures;
using ServerlessServe.Local.Samples;
using Xunit.Abstractions;

namespace ServerlessServe.Eval.Tests.Extraction;

/// <summary>
/// Callers of the digits model (labelled by ONNX Runtime) against the extraction detector, one query per simulated
/// second as in the evaluation.
/// </summary>
public sealed class ExtractionCallerTests(OnnxDigitsModel model, ITestOutputHelper output) : IClassFixture<OnnxDigitsModel>
{
    /// <summary>The δ the evaluation recommends for the digits model (asserted against the evaluation in DefenseEvaluationTests).</summary>
    private const double DigitsDelta = 0.85;

    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    [Fact]
    public void RandomQueries_DefaultOptions_AlarmWithin500Queries()
    {
        var trace = Run(new RandomQueries(ExtractionEvaluation.RandomSeed), new ExtractionDetectorOptions(), 500);

        var defaults = new ExtractionDetectorOptions();
        var first = trace.FirstAlarm(defaults.Delta);
        output.WriteLine($"first alarm at query {first}: {(first is { } q ? trace.SignalsAt(q, defaults.Delta) : ExtractionSignals.None)}");
        Assert.NotNull(first);
        Assert.InRange(first.Value, 1, 500);
        Assert.True(trace.SignalsAt(first.Value, defaults.Delta).HasFlag(ExtractionSignals.Coverage));
    }

    /// <summary>
    /// Each of the evaluation's ten benign callers (held-out digits, drawn with replacement, jitter σ = 0.5) stays quiet
    /// for 2,000 queries with the δ recommended for digits. (With the default δ = 0.90 one of the ten alarms; the
    /// evaluation reports it.)
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    public void ReplayQueries_HeldOutDigitsWithTheDigitsDelta_NoAlarmIn2000Queries(int caller)
    {
        var test = DigitsData.Load().Test.Rows();
        var replay = new ReplayQueries("benign", test, ExtractionEvaluation.BenignSeed + (ulong)caller, 0.5, "held-out test digits");

        var trace = Run(replay, new ExtractionDetectorOptions { Delta = DigitsDelta }, 2000);

        output.WriteLine($"lowest W {trace.MinW():F4}, highest coverage {trace.MaxCoverage:F3}");
        Assert.Equal(2000, trace.Queries);
        Assert.All(trace.Signals, s => Assert.Equal(ExtractionSignals.None, s));
        Assert.Null(trace.FirstAlarm(DigitsDelta));
        Assert.NotNull(trace.MinW());
    }

    /// <summary>
    /// Seed set 2's Jacobian attacker, which PRADA misses on this model, with the digits policy's screen (the 99.5th
    /// training percentile) reporting: the share it flags raises the out-of-distribution signal within 100 queries.
    /// </summary>
    [Fact]
    public void JacobianAugmentation_WithTheScreen_OutOfDistributionWithin100Queries_PradaQuiet()
    {
        var split = DigitsData.Load();
        var jacobian = new JacobianAugmentation(ExtractionEvaluation.SeedSet(split.Train, 1), 0.1, ExtractionEvaluation.SubstituteSeed);

        var trace = Run(jacobian, new ExtractionDetectorOptions { Delta = DigitsDelta }, 300, Screen(split));

        var first = trace.FirstRaising(ExtractionSignals.OutOfDistribution, DigitsDelta);
        output.WriteLine($"out of distribution at query {first}; flagged {trace.OodFlagged.Count(f => f)} of {trace.Queries}; lowest W {trace.MinW():F4}");
        Assert.InRange(first ?? int.MaxValue, 50, 100);
        Assert.Null(trace.FirstRaising(ExtractionSignals.DistanceDistribution, DigitsDelta));
    }

    [Fact]
    public void ReplayQueries_HeldOutDigitsWithTheScreen_ShareStaysUnderATenthOfTheThreshold()
    {
        var split = DigitsData.Load();
        var replay = new ReplayQueries("benign", split.Test.Rows(), ExtractionEvaluation.BenignSeed + 4, 0.5, "held-out test digits");
        var options = new ExtractionDetectorOptions { Delta = DigitsDelta };

        var trace = Run(replay, options, 2000, Screen(split));

        Assert.Equal(2000, trace.OodFlagged.Count);
        Assert.Null(trace.FirstRaising(ExtractionSignals.OutOfDistribution, DigitsDelta));
        Assert.InRange(trace.MaxOutOfDistributionShare ?? -1, 0, options.OutOfDistributionThreshold / 10);
    }

    [Fact]
    public void MonitoredOracle_WithoutAScreen_NoShareNoFlags()
    {
        var trace = Run(new RandomQueries(1), new ExtractionDetectorOptions(), 60);

        Assert.Empty(trace.OodFlagged);
        Assert.Empty(trace.OutOfDistributionShare);
        Assert.Null(trace.FirstRaising(ExtractionSignals.OutOfDistribution, 0.9));
    }

    [Fact]
    public void ReplayQueries_NoJitter_SendsPoolRowsExactly()
    {
        var test = DigitsData.Load().Test.Rows();
        var oracle = new RecordingOracle(_ => 0, 50);

        new ReplayQueries("exact", test, 1, 0, "held-out test digits").Run(oracle);

        Assert.Equal(50, oracle.Queries.Count);
        Assert.All(oracle.Queries, q => Assert.Contains(test, row => row.SequenceEqual(q)));
    }

    [Fact]
    public void ReplayQueries_Jitter_StaysInRangeAndNearAPoolRow()
    {
        var test = DigitsData.Load().Test.Rows();
        var oracle = new RecordingOracle(_ => 0, 50);

        new ReplayQueries("jittered", test, 1, 0.5, "held-out test digits").Run(oracle);

        foreach (var query in oracle.Queries)
        {
            Assert.All(query, p => Assert.InRange(p, 0f, DigitsData.MaxPixel));
            Assert.Contains(test, row => row.Zip(query).All(z => Math.Abs(z.First - z.Second) <= 3.0));
            Assert.DoesNotContain(test, row => row.SequenceEqual(query));
        }
    }

    [Fact]
    public void RandomQueries_Seeded_InRangeAndRepeatable()
    {
        var a = new RecordingOracle(_ => 0, 20);
        var b = new RecordingOracle(_ => 0, 20);

        new RandomQueries(5).Run(a);
        new RandomQueries(5).Run(b);

        Assert.Equal(a.Queries, b.Queries);
        Assert.All(a.Queries.SelectMany(q => q), p => Assert.InRange(p, 0f, DigitsData.MaxPixel));
        Assert.Equal(DigitsData.PixelCount * 20, a.Queries.SelectMany(q => q).Distinct().Count());
    }

    [Fact]
    public void MonitoredOracle_QueryOverBudget_Throws()
    {
        var oracle = new MonitoredOracle(new ExtractionDetector(new ExtractionDetectorOptions()), _ => 0, 1, ExtractionEvaluation.Start, OneSecond);

        oracle.Query(new float[DigitsData.PixelCount]);

        Assert.Equal(0, oracle.Remaining);
        Assert.Throws<InvalidOperationException>(() => oracle.Query(new float[DigitsData.PixelCount]));
    }

    private CallerTrace Run(IQueryStrategy strategy, ExtractionDetectorOptions options, int budget, Func<float[], bool>? screen = null) =>
        MonitoredOracle.Run(strategy, benign: false, new ExtractionDetector(options), row => model.Predict([row])[0], budget, ExtractionEvaluation.Start, OneSecond, screen);

    // The digits policy's screen: the profile of the training digits at the 99.5th percentile, as the sample publishes it.
    private static Func<float[], bool> Screen(DigitsSplit split)
    {
        var screen = new MahalanobisScreen(InputProfileBuilder.Build(DigitsSample.InputName, split.Train.Rows(), 99.5));
        return row => screen.Distance(row) > screen.Profile.Threshold;
    }
}
