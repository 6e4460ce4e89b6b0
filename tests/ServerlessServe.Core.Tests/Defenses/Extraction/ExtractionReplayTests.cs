using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

/// <summary>
/// A query kept reduced and observed later (<see cref="ExtractionDetector.ObserveReduced"/>, what a store replays into
/// another instance's state) counts exactly as the query observed at once.
/// </summary>
public class ExtractionReplayTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(64)]
    [InlineData(300)]
    public void ObserveReduced_ReducedQueries_SameVerdictsAndStateAsObserve(int length)
    {
        var model = new SyntheticCallers(23);
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var direct = detector.CreateState(length);
        var replayed = detector.CreateState(length);
        var queries = model.JacobianStyle().Take(400).Select(q => Widen(q, length)).ToList();

        foreach (var (query, i) in queries.Select(static (q, i) => (q, i)))
        {
            var predicted = model.Predict(query.AsSpan(0, SyntheticCallers.Dimension));
            var now = Start.AddSeconds(i);
            var reduced = new float[detector.ReducedLength(length)];
            Assert.True(detector.TryReduce(query, reduced));

            Assert.Equal(detector.Observe(direct, query, predicted, now), detector.ObserveReduced(replayed, reduced, predicted, now, detector.Fingerprint(predicted, query)));
        }

        Assert.Equal(Math.Min(length, 256), replayed.Dimension);
        Assert.Equal(detector.Serialize(direct), detector.Serialize(replayed));
    }

    [Fact]
    public void ObserveReduced_WrongLengthOrValueNoReductionGives_ThrowsAndLeavesStateUnchanged()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(8);
        var before = detector.Serialize(state);

        Assert.Throws<ArgumentException>(() => detector.ObserveReduced(state, new float[7], 0, Start));
        Assert.Throws<ArgumentException>(() => detector.ObserveReduced(state, [1, 2, 3, 4, 5, 6, 7, 70_000], 0, Start));
        Assert.Throws<ArgumentException>(() => detector.ObserveReduced(state, [1, 2, 3, 4, 5, 6, 7, float.NaN], 0, Start));
        Assert.Equal(before, detector.Serialize(state));
    }

    [Fact]
    public void TryReduce_NonFiniteInput_False_WrongOutputLength_Throws()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());

        Assert.False(detector.TryReduce([1, float.PositiveInfinity], new float[2]));
        Assert.Throws<ArgumentException>(() => detector.TryReduce(new float[300], new float[300]));
        Assert.Equal(256, detector.ReducedLength(300));
    }

    // The synthetic query, then (for a longer input) a fixed pattern, so every feature of a long input counts.
    private static float[] Widen(float[] query, int length)
    {
        var wide = new float[length];
        query.CopyTo(wide, 0);
        for (var i = query.Length; i < length; i++)
        {
            wide[i] = query[i % query.Length] * 0.5f;
        }

        return wide;
    }
}
