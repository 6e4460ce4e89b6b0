using ServerlessServe.Core.Defenses.Extraction;
using Xunit.Abstractions;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

// Exact repeats (a client's retries, an input sent again) count towards volume only (ExtractionDetectorOptions.RepeatWindow).
public class RepeatedQueryTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Observe_BenignCallerRetryingEveryQuery_NoAlarm_AsWithoutTheRetries(int seed)
    {
        var model = new SyntheticCallers(seed);
        var queries = model.Benign().Take(1000).ToArray();
        var detector = new ExtractionDetector(new ExtractionDetectorOptions { VolumeLimit = 10_000 });
        var once = detector.CreateState(SyntheticCallers.Dimension);
        var twice = detector.CreateState(SyntheticCallers.Dimension);

        var onceVerdicts = ExtractionDetectorTests.Run(detector, once, model, queries, TimeSpan.FromSeconds(1));
        var twiceVerdicts = ExtractionDetectorTests.Run(detector, twice, model, queries.SelectMany(static q => new[] { q, q }), TimeSpan.FromSeconds(0.5));

        // Every second query is a repeat, which adds no distance: the distances, W and coverage are those of one pass.
        Assert.All(twiceVerdicts.Where(static (_, i) => i % 2 == 1), static v => Assert.True(v.Repeat));
        Assert.All(twiceVerdicts.Where(static (_, i) => i % 2 == 0), static v => Assert.False(v.Repeat));
        Assert.Equal(onceVerdicts.Select(static v => v.W), twiceVerdicts.Where(static (_, i) => i % 2 == 0).Select(static v => v.W));
        Assert.Equal(onceVerdicts.Select(static v => v.Coverage), twiceVerdicts.Where(static (_, i) => i % 2 == 0).Select(static v => v.Coverage));
        Assert.Equal((once.DistanceCount, once.GrowingSetCount), (twice.DistanceCount, twice.GrowingSetCount));
        Assert.Equal(2000, twice.QueryCount);
        Assert.Equal(ExtractionSignals.None, twice.RaisedEver);
    }

    [Fact]
    public void Observe_RetriesCountedAsQueries_RaiseTheDistanceSignal_RecognisedRepeatsDoNot()
    {
        // Without recognising repeats, a retried query is at distance 0 from the query it repeats: a spike PRADA reads as
        // crafted queries. This is the false alarm the repeat window removes.
        var model = new SyntheticCallers(4);
        var queries = model.Benign().Take(600).SelectMany(static (q, i) => i % 3 == 0 ? new[] { q, q } : [q]).ToArray();
        var counting = new ExtractionDetector(new ExtractionDetectorOptions { RepeatWindow = 0 });
        var recognising = new ExtractionDetector(new ExtractionDetectorOptions());

        var counted = ExtractionDetectorTests.Run(counting, counting.CreateState(SyntheticCallers.Dimension), model, queries, TimeSpan.FromSeconds(1));
        var recognised = ExtractionDetectorTests.Run(recognising, recognising.CreateState(SyntheticCallers.Dimension), model, queries, TimeSpan.FromSeconds(1));

        output.WriteLine($"lowest W counting repeats {counted.Min(static v => v.W ?? 1.0):F4}, recognising them {recognised.Min(static v => v.W ?? 1.0):F4}");
        Assert.Contains(counted, static v => v.Signals.HasFlag(ExtractionSignals.DistanceDistribution));
        Assert.All(recognised, static v => Assert.Equal(ExtractionSignals.None, v.Signals));
        Assert.Equal(200, recognised.Count(static v => v.Repeat));
        Assert.DoesNotContain(counted, static v => v.Repeat);
    }

    [Fact]
    public void Observe_Repeat_CountsTowardsVolumeOnly()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions { VolumeLimit = 5 });
        var state = detector.CreateState(3);
        detector.Observe(state, [0f, 0f, 0f], 0, Start);
        detector.Observe(state, [4f, 0f, 0f], 0, Start);
        var coverageQueries = state.Coverage.EpochQueries;

        var verdicts = Enumerable.Range(0, 4).Select(i => detector.Observe(state, [4f, 0f, 0f], 0, Start.AddSeconds(i))).ToArray();

        Assert.All(verdicts, static v => Assert.True(v.Repeat));
        Assert.All(verdicts, static v => Assert.Null(v.MinDistance));
        Assert.Equal([3, 4, 5, 6], verdicts.Select(static v => v.VolumeCount));
        Assert.True(verdicts[^1].Signals.HasFlag(ExtractionSignals.Volume));
        Assert.Equal([3L, 4L, 5L, 6L], verdicts.Select(static v => v.Query));
        Assert.Equal(1, state.DistanceCount);
        Assert.Equal(2, state.GrowingSetCount);
        Assert.Equal(coverageQueries, state.Coverage.EpochQueries);
    }

    [Fact]
    public void Observe_ExactRepeatOnly_SameValuesAtHalfPrecisionOrAnotherClassIsNot()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(3);
        detector.Observe(state, [0.35f, -0f, 7f], 1, Start);

        // -0 equals 0; 0.35 + 1e-5 rounds to the same half-precision value as 0.35 but is another query (before
        // 2026-12-07 it passed as a repeat, counted towards volume only).
        Assert.True(detector.Observe(state, [0.35f, 0f, 7f], 1, Start).Repeat);
        var near = detector.Observe(state, [0.35f + 1e-5f, 0f, 7f], 1, Start);
        Assert.False(near.Repeat);
        Assert.InRange(near.MinDistance!.Value, 0.0, 1e-3);
        Assert.False(detector.Observe(state, [0.36f, 0f, 7f], 1, Start).Repeat);
        Assert.False(detector.Observe(state, [0.35f, 0f, 7f], 2, Start).Repeat);
        Assert.True(detector.Observe(state, [0.35f, 0f, 7f], 2, Start).Repeat);
    }

    /// <summary>
    /// Queries crafted to reduce alike are not repeats: clamped to the half-precision range (70,000 and 90,000 both
    /// read 65,504), or feature-hashed past 256 values (a change at one index and its compensation at another of the
    /// same bucket leave the bucket's sum). Found in review 2026-12-07: each passed as a repeat of the first, so it added
    /// no distance, no coverage, nothing the distance test could see, and a model could be swept freely under the
    /// volume limit.
    /// </summary>
    [Fact]
    public void Observe_QueriesCraftedToReduceAlike_AreNotRepeats()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(4);
        detector.Observe(state, [70_000f, 1f, 2f, 3f], 0, Start);

        var clamped = detector.Observe(state, [90_000f, 1f, 2f, 3f], 0, Start);

        Assert.False(clamped.Repeat);
        Assert.Equal(0.0, clamped.MinDistance);

        var wide = detector.CreateState(300);
        var table = FeatureHashing.Table(300, detector.ReducedLength(300));
        var (i, j) = SameBucket(table);
        var seed = Enumerable.Range(0, 300).Select(static k => (float)(k % 7)).ToArray();
        detector.Observe(wide, seed, 0, Start);
        var crafted = (float[])seed.Clone();
        crafted[i] += 3f;
        crafted[j] -= Sign(table[i]) * Sign(table[j]) * 3f;
        var reducedSeed = new float[detector.ReducedLength(300)];
        var reducedCrafted = new float[detector.ReducedLength(300)];
        Assert.True(detector.TryReduce(seed, reducedSeed));
        Assert.True(detector.TryReduce(crafted, reducedCrafted));
        Assert.Equal(reducedSeed, reducedCrafted);

        var verdict = detector.Observe(wide, crafted, 0, Start);

        Assert.False(verdict.Repeat);
        Assert.Equal(0.0, verdict.MinDistance);
        Assert.Equal(1, wide.DistanceCount);
    }

    [Fact]
    public void Observe_RepeatOfAQueryOutsideTheWindow_RepeatOnlyWhenStoredAndKeptWhole()
    {
        // a starts class 0; b joins (distance 10 above the threshold 0), which sets the threshold to 10; c (5 from a)
        // and d (10 from a) do not join.
        float[] a = [0f, 0f], b = [10f, 0f], c = [5f, 0f], d = [0f, 10f];
        foreach (var (window, cRepeats) in new[] { (1, false), (2, true) })
        {
            var detector = new ExtractionDetector(new ExtractionDetectorOptions { RepeatWindow = window });
            var state = detector.CreateState(2);
            foreach (var query in new[] { a, b, c, d })
            {
                detector.Observe(state, query, 0, Start);
            }

            Assert.Equal(2, state.GrowingSetCount);

            // c left a window of one query when d came, and is not stored: it counts again, at its distance of 5.
            var again = detector.Observe(state, c, 0, Start);
            Assert.Equal(cRepeats, again.Repeat);
            Assert.Equal(cRepeats ? null : 5.0, again.MinDistance);

            // a is stored, and its stored form is a itself (every value a half-precision value), so it is a repeat
            // whatever the window.
            Assert.True(detector.Observe(state, a, 0, Start).Repeat);
        }

        // A stored query whose reduction lost something is no repeat once out of the window: 0.35 is stored as the
        // half nearest to it, which another query rounds to as well.
        var lossy = new ExtractionDetector(new ExtractionDetectorOptions { RepeatWindow = 1 });
        var lossyState = lossy.CreateState(2);
        lossy.Observe(lossyState, [0.35f, 0f], 0, Start);
        lossy.Observe(lossyState, [9f, 9f], 0, Start);
        var back = lossy.Observe(lossyState, [0.35f, 0f], 0, Start);
        Assert.False(back.Repeat);
        Assert.Equal(0.0, back.MinDistance!.Value, 1e-3);
    }

    private static (int I, int J) SameBucket(ReadOnlySpan<int> table)
    {
        for (var i = 0; i < table.Length; i++)
        {
            for (var j = i + 1; j < table.Length; j++)
            {
                if (Bucket(table[i]) == Bucket(table[j]))
                {
                    return (i, j);
                }
            }
        }

        throw new InvalidOperationException("no two indices share a bucket");
    }

    private static int Bucket(int entry) => entry & int.MaxValue;

    private static float Sign(int entry) => entry < 0 ? -1f : 1f;

    [Fact]
    public void ObserveReduced_RepeatsReplayed_SameStateAsObservedDirectly()
    {
        var model = new SyntheticCallers(9);
        var queries = model.Benign().Take(300).SelectMany(static (q, i) => i % 4 == 0 ? new[] { q, q } : [q]).ToArray();
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var direct = detector.CreateState(SyntheticCallers.Dimension);
        var replayed = detector.CreateState(SyntheticCallers.Dimension);
        var reduced = new float[detector.ReducedLength(SyntheticCallers.Dimension)];

        foreach (var query in queries)
        {
            var label = model.Predict(query);
            var viaObserve = detector.Observe(direct, query, label, Start);
            Assert.True(detector.TryReduce(query, reduced));
            Assert.Equal(viaObserve, detector.ObserveReduced(replayed, reduced, label, Start, detector.Fingerprint(label, query)));
        }

        Assert.Equal(detector.Serialize(direct), detector.Serialize(replayed));
        Assert.Equal(direct.Recent.Count, detector.Deserialize(detector.Serialize(direct)).Recent.Count);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(1024)]
    [InlineData(3001)]
    public void InputFingerprint_Sha256OfClassAndExactBits_NegativeZeroIsZero(int length)
    {
        var input = Enumerable.Range(0, length).Select(static i => i % 5 == 0 ? -0f : i * 0.001f).ToArray();
        var bytes = new byte[4 + (4 * length)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, 7);
        for (var i = 0; i < length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 + (4 * i)), input[i] == 0 ? 0f : input[i]);
        }

        var digest = System.Security.Cryptography.SHA256.HashData(bytes);
        var expected = new UInt128(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest), System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(digest.AsSpan(8)));

        Assert.Equal(expected, RecentQueries.Fingerprint(7, input));
        var changed = (float[])input.Clone();
        changed[^1] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(changed[^1]) + 1);
        Assert.NotEqual(expected, RecentQueries.Fingerprint(7, changed));
        Assert.NotEqual(expected, RecentQueries.Fingerprint(8, input));
    }

    [Fact]
    public void Fingerprint_DependsOnClassAndEveryValue_NegativeZeroIsZero()
    {
        ushort[] values = [0x3C00, 0x0000, 0x4000];
        var fingerprint = RecentQueries.Fingerprint(1, values);

        Assert.Equal(fingerprint, RecentQueries.Fingerprint(1, [0x3C00, 0x8000, 0x4000]));
        Assert.NotEqual(fingerprint, RecentQueries.Fingerprint(2, values));
        for (var i = 0; i < values.Length; i++)
        {
            var changed = (ushort[])values.Clone();
            changed[i] ^= 1;
            Assert.NotEqual(fingerprint, RecentQueries.Fingerprint(1, changed));
        }

        // Long queries hash from a rented buffer, with the same result for the same values.
        var longQuery = Enumerable.Range(0, 3000).Select(static i => (ushort)(i % 0x7000)).ToArray();
        Assert.Equal(RecentQueries.Fingerprint(0, longQuery), RecentQueries.Fingerprint(0, longQuery.ToArray()));
    }

    [Fact]
    public void RecentQueries_FullRing_DropsTheOldest_FindsOnlyWhatItHolds()
    {
        var ring = new RecentQueries(3);
        for (ulong i = 1; i <= 5; i++)
        {
            ring.Add(new UInt128(i % 2, i));
        }

        Assert.Equal(3, ring.Count);
        Assert.Equal([new UInt128(1, 3), new UInt128(0, 4), new UInt128(1, 5)], Enumerable.Range(0, 3).Select(i => ring[i]));
        Assert.False(ring.Contains(new UInt128(0, 2)));
        Assert.True(ring.Contains(new UInt128(0, 4)));

        // Same high half, another low half: not held.
        Assert.False(ring.Contains(new UInt128(1, 4)));

        var none = new RecentQueries(0);
        none.Add(new UInt128(1, 1));
        Assert.Equal(0, none.Count);
        Assert.False(none.Contains(new UInt128(1, 1)));
    }
}
