using System.Diagnostics;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>The binary form of an <see cref="ExtractionState"/>.</summary>
/// <remarks>
/// <para>Format version 3, little-endian, sections in this order:</para>
/// <list type="table">
/// <item><term>Header, 36 bytes</term><description>"PRDA"; version (3); signals raised ever (flags of
/// <see cref="ExtractionSignals"/>); coverage bits; 0; input length (int32); stored dimension d (int32); queries
/// (int64); latest W (float64, NaN for none); distances since the last test (int32).</description></item>
/// <item><term>Growing set, 4 + n(12 + 2d)</term><description>n (int32), then per stored query, oldest first: class
/// (int32), sequence number (int64), d values as IEEE half (they were rounded to half when stored).</description></item>
/// <item><term>Thresholds, 4 + 32c</term><description>c (int32), then per class with stored queries, by class: class
/// (int32), T_c (float64), distances recorded (int32), their mean (float64), their sum of squared deviations
/// (float64).</description></item>
/// <item><term>Distances, 4 + 4m</term><description>m (int32), then the window, oldest first (float32).</description></item>
/// <item><term>Volume, 56</term><description>bucket length in ticks (int64), newest bucket index (int64), 10 bucket
/// counts (int32).</description></item>
/// <item><term>Coverage, 16 + 4d + 8w</term><description>queries in the epoch (int32), last coverage (float64, NaN for
/// none), queries in the running mean (int32), the mean (d float32), the epoch's bitmap (w = max(1, 2^bits/64)
/// uint64).</description></item>
/// <item><term>Screen, 4 + 8s</term><description>screened rows held r (int32), then whether each was flagged, oldest
/// first, as bits (row i is bit i mod 64 of word i / 64; s = ⌈r/64⌉ uint64, bits past r zero).</description></item>
/// <item><term>Repeats, 4 + 16k</term><description>fingerprints held k (int32), then each, oldest first, as its high
/// and low 64 bits (uint64 each; <see cref="ExtractionDetectorOptions.RepeatWindow"/>).</description></item>
/// </list>
/// <para>
/// Version 2 (before repeats were recognised) is the same without the repeats section, and version 1 (before the
/// out-of-distribution signal) also without the screen section and with signals 1, 2 and 4 only. Both still load, with
/// no fingerprints held (and version 1 with an empty screen window), and are written back as version 3.
/// </para>
/// <para>
/// Worst case, with n = c = <see cref="ExtractionDetectorOptions.MaxGrowingSet"/> and m =
/// <see cref="ExtractionDetectorOptions.DistanceWindow"/> and r = <see cref="ExtractionDetectorOptions.OutOfDistributionWindow"/>
/// and k = <see cref="ExtractionDetectorOptions.RepeatWindow"/>:
/// 36 + 4 + n(12 + 2d) + 4 + 32n + 4 + 4m + 56 + 16 + 4d + 8w + 4 + 8s + 4 + 16k bytes (<see cref="MaxSerializedSize"/>);
/// with the defaults and d = 64, 54,576 bytes, one Azure Table binary property (64 KiB); with d = 256 (the default
/// maximum), 153,648 bytes, three properties (<see cref="ExtractionStateChunks"/>).
/// </para>
/// <para>
/// The same state serialises to the same bytes, and <see cref="Deserialize"/> then <see cref="Serialize"/> under the
/// same options gives back the input exactly. A state written under other options is brought within the current ones:
/// growing sets re-admitted oldest first under the current caps (so the newest stay), the newest distances kept; when
/// the stored dimension no longer matches (a changed <see cref="ExtractionDetectorOptions.MaxDimension"/>), or the
/// volume bucket length or coverage bits changed, those parts start afresh. The screen window and the fingerprints keep
/// their newest.
/// </para>
/// </remarks>
public sealed partial class ExtractionDetector
{
    private const byte FormatVersion = 3;

    // Version 2 states (no repeats section) and version 1 states (no screen section either) are still read.
    private const byte FormatVersion2 = 2;
    private const byte FormatVersion1 = 1;
    private const int HeaderBytes = 36;
    private const int ClassBytes = 32;
    private const int VolumeBytes = 16 + (4 * VolumeCounter.Buckets);
    private const int MaxDimensionAllowed = 4096;
    private const int MaxGrowingAllowed = 4096;
    private const int MaxTestEveryAllowed = 10_000;
    private const int MaxScreenWindowAllowed = 4096;
    private const int MaxRepeatWindowAllowed = 4096;
    private const int FingerprintBytes = 16;

    private static ReadOnlySpan<byte> Magic => "PRDA"u8;

    /// <summary>
    /// The most bytes <see cref="Serialize"/> writes for a state of a model whose input rows have
    /// <paramref name="inputLength"/> values, under these options.
    /// </summary>
    public int MaxSerializedSize(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputLength, 1);
        var dimension = Math.Min(inputLength, _options.MaxDimension);
        return checked((int)SerializedSize(
            dimension,
            _options.MaxGrowingSet,
            _options.MaxGrowingSet,
            _options.DistanceWindow,
            CoverageWords(CoverageBitsFor(dimension)),
            _options.OutOfDistributionWindow,
            _options.RepeatWindow));
    }

    /// <summary>The compact binary form of <paramref name="state"/> (format version 3).</summary>
    public byte[] Serialize(ExtractionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var dimension = state.Dimension;
        var coverage = state.Coverage;
        var screen = state.Screen;
        var bytes = new byte[checked((int)SerializedSize(
            dimension, state.Growing.Count, state.Classes.Count, state.Distances.Count, coverage.Visited.Length, screen.Count, state.Recent.Count))];
        var writer = new StateWriter(bytes);

        writer.Bytes(Magic);
        writer.Byte(FormatVersion);
        writer.Byte((byte)state.RaisedEver);
        writer.Byte((byte)coverage.Bits);
        writer.Byte(0);
        writer.Int32(state.InputLength);
        writer.Int32(dimension);
        writer.Int64(state.QueryCount);
        writer.Double(state.LastWValue);
        writer.Int32(state.DistancesSinceTest);

        var growing = state.Growing;
        writer.Int32(growing.Count);
        foreach (var slot in growing.SlotsOldestFirst())
        {
            writer.Int32(growing.Label(slot));
            writer.Int64(growing.Sequence(slot));
            writer.UInt16s(growing.HalvesAt(slot));
        }

        writer.Int32(state.Classes.Count);
        foreach (var (label, threshold) in state.Classes.OrderBy(static pair => pair.Key))
        {
            writer.Int32(label);
            writer.Double(threshold.Threshold);
            writer.Int32(threshold.Count);
            writer.Double(threshold.Mean);
            writer.Double(threshold.SumSquaredDeviations);
        }

        writer.Int32(state.Distances.Count);
        for (var i = 0; i < state.Distances.Count; i++)
        {
            writer.Single(state.Distances[i]);
        }

        writer.Int64(state.Volume.BucketTicks);
        writer.Int64(state.Volume.CurrentBucket);
        foreach (var count in state.Volume.Counts)
        {
            writer.Int32(count);
        }

        writer.Int32(coverage.EpochQueries);
        writer.Double(coverage.LastCoverage);
        writer.Int32(coverage.MeanCount);
        foreach (var value in coverage.Mean)
        {
            writer.Single(value);
        }

        foreach (var word in coverage.Visited)
        {
            writer.UInt64(word);
        }

        writer.Int32(screen.Count);
        for (var word = 0; word < ScreenWindow.Words(screen.Count); word++)
        {
            var bits = 0UL;
            for (var bit = 0; bit < 64 && (word * 64) + bit < screen.Count; bit++)
            {
                if (screen[(word * 64) + bit])
                {
                    bits |= 1UL << bit;
                }
            }

            writer.UInt64(bits);
        }

        writer.Int32(state.Recent.Count);
        for (var i = 0; i < state.Recent.Count; i++)
        {
            var fingerprint = state.Recent[i];
            writer.UInt64((ulong)(fingerprint >> 64));
            writer.UInt64((ulong)fingerprint);
        }

        Debug.Assert(writer.Position == bytes.Length, "The size computed ahead matches what was written.");
        return bytes;
    }

    /// <summary>Reads a state written by <see cref="Serialize"/>, bringing it within the current options.</summary>
    /// <exception cref="InvalidDataException">The data is not a state of a known format version, or is truncated or inconsistent.</exception>
    public ExtractionState Deserialize(ReadOnlySpan<byte> data)
    {
        var reader = new StateReader(data);
        if (!reader.Bytes(Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException("The data is not an extraction state.");
        }

        var version = reader.Byte();
        if (version is not (FormatVersion or FormatVersion2 or FormatVersion1))
        {
            throw new InvalidDataException("The extraction state has an unknown format version.");
        }

        var raised = (ExtractionSignals)reader.Byte();
        var bits = reader.Byte();
        var reserved = reader.Byte();
        var inputLength = reader.Int32();
        var dimension = reader.Int32();
        var queryCount = reader.Int64();
        var lastW = reader.Double();
        var sinceTest = reader.Int32();
        Require((raised & ~(version == FormatVersion1 ? Version1Signals : AllSignals)) == 0 && reserved == 0 && inputLength >= 1, "header");
        Require(dimension >= 1 && dimension <= Math.Min(inputLength, MaxDimensionAllowed) && bits >= 1 && bits <= Math.Min(16, dimension), "dimensions");
        Require(queryCount >= 0 && (double.IsNaN(lastW) || lastW is >= 0.0 and <= 1.0) && sinceTest is >= 0 and <= MaxTestEveryAllowed, "counters");

        var growingCount = reader.Count(12 + (2 * dimension), MaxGrowingAllowed);
        var labels = new int[growingCount];
        var sequences = new long[growingCount];
        var vectors = new ushort[growingCount * dimension];
        for (var i = 0; i < growingCount; i++)
        {
            labels[i] = reader.Int32();
            sequences[i] = reader.Int64();
            Require(labels[i] >= 0 && sequences[i] >= 1 && sequences[i] <= queryCount && (i == 0 || sequences[i] > sequences[i - 1]), "growing set");
            var vector = vectors.AsSpan(i * dimension, dimension);
            reader.UInt16s(vector);
            foreach (var half in vector)
            {
                Require(GrowingSet.IsFiniteHalf(half), "growing set");
            }
        }

        var classCount = reader.Count(ClassBytes, MaxGrowingAllowed);
        var thresholds = new Dictionary<int, ClassThreshold>(classCount);
        for (var i = 0; i < classCount; i++)
        {
            var label = reader.Int32();
            var threshold = reader.Double();
            var count = reader.Int32();
            var average = reader.Double();
            var squares = reader.Double();
            Require(label >= 0 && threshold >= 0.0 && double.IsFinite(threshold) && count >= 0 && count <= queryCount && double.IsFinite(average) && squares >= 0.0 && double.IsFinite(squares), "thresholds");
            Require(thresholds.TryAdd(label, ClassThreshold.Restore(threshold, count, average, squares)), "thresholds");
        }

        var distanceCount = reader.Count(4, ShapiroWilk.MaxSampleSize);
        var distances = new float[distanceCount];
        for (var i = 0; i < distanceCount; i++)
        {
            distances[i] = reader.Single();
            Require(distances[i] >= 0f && float.IsFinite(distances[i]), "distances");
        }

        var bucketTicks = reader.Int64();
        var currentBucket = reader.Int64();
        Require(currentBucket >= 0 || currentBucket == long.MinValue, "volume");
        Span<int> counts = stackalloc int[VolumeCounter.Buckets];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = reader.Int32();
            Require(counts[i] >= 0, "volume");
        }

        var epochQueries = reader.Int32();
        var lastCoverage = reader.Double();
        var meanCount = reader.Int32();
        Require(epochQueries >= 0 && (double.IsNaN(lastCoverage) || (lastCoverage >= 0.0 && double.IsFinite(lastCoverage))), "coverage");
        Require(meanCount is >= 0 and <= CoverageTracker.MeanHorizon, "coverage");
        var mean = new float[dimension];
        for (var i = 0; i < dimension; i++)
        {
            mean[i] = reader.Single();
            Require(float.IsFinite(mean[i]), "coverage");
        }

        var visited = new ulong[CoverageWords(bits)];
        for (var i = 0; i < visited.Length; i++)
        {
            visited[i] = reader.UInt64();
        }

        // Whether each screened row held was flagged, oldest first (none in version 1).
        var screenedCount = version == FormatVersion1 ? 0 : reader.Count(0, MaxScreenWindowAllowed);
        var screened = new ulong[ScreenWindow.Words(screenedCount)];
        for (var i = 0; i < screened.Length; i++)
        {
            screened[i] = reader.UInt64();
        }

        Require(screenedCount % 64 == 0 || screened[^1] >> (screenedCount % 64) == 0, "screen");

        // The fingerprints of the latest queries, oldest first (none before version 3).
        var fingerprintCount = version == FormatVersion ? reader.Count(FingerprintBytes, MaxRepeatWindowAllowed) : 0;
        var fingerprints = new UInt128[fingerprintCount];
        for (var i = 0; i < fingerprintCount; i++)
        {
            var high = reader.UInt64();
            fingerprints[i] = new UInt128(high, reader.UInt64());
        }

        Require(reader.Remaining == 0, "length");

        var state = CreateState(inputLength);
        state.QueryCount = queryCount;
        state.RaisedEver = raised;
        for (var i = Math.Max(0, screenedCount - state.Screen.Capacity); i < screenedCount; i++)
        {
            state.Screen.Add(((screened[i / 64] >> (i % 64)) & 1UL) != 0);
        }

        foreach (var fingerprint in fingerprints.AsSpan(Math.Max(0, fingerprintCount - state.Recent.Capacity)))
        {
            state.Recent.Add(fingerprint);
        }

        if (bucketTicks == state.Volume.BucketTicks)
        {
            state.Volume = VolumeCounter.Restore(bucketTicks, currentBucket, counts);
        }

        if (dimension != state.Dimension)
        {
            return state;
        }

        for (var i = 0; i < growingCount; i++)
        {
            Store(state, labels[i], sequences[i], default, vectors.AsSpan(i * dimension, dimension));
        }

        foreach (var (label, kept) in state.Classes.ToArray())
        {
            if (thresholds.TryGetValue(label, out var restored))
            {
                restored.Members = kept.Members;
                state.Classes[label] = restored;
            }
        }

        foreach (var distance in distances.AsSpan(Math.Max(0, distanceCount - state.Distances.Capacity)))
        {
            state.Distances.Add(distance);
        }

        state.LastWValue = lastW;
        state.DistancesSinceTest = Math.Min(sinceTest, _options.TestEvery);
        var sameCells = bits == state.Coverage.Bits && epochQueries < _options.CoverageEpoch;
        state.Coverage = CoverageTracker.Restore(
            state.Coverage.Bits,
            sameCells ? epochQueries : 0,
            lastCoverage,
            meanCount,
            mean,
            sameCells ? visited : new ulong[CoverageWords(state.Coverage.Bits)]);
        return state;
    }

    private const ExtractionSignals Version1Signals = ExtractionSignals.DistanceDistribution | ExtractionSignals.Volume | ExtractionSignals.Coverage;

    private const ExtractionSignals AllSignals = Version1Signals | ExtractionSignals.OutOfDistribution;

    private static int CoverageWords(int bits) => Math.Max(1, (1 << bits) / 64);

    private static long SerializedSize(int dimension, int growing, int classes, int distances, int coverageWords, int screened, int fingerprints) =>
        HeaderBytes
        + 4 + ((long)growing * (12 + (2L * dimension)))
        + 4 + ((long)classes * ClassBytes)
        + 4 + (4L * distances)
        + VolumeBytes
        + 16 + (4L * dimension) + (8L * coverageWords)
        + 4 + (8L * ScreenWindow.Words(screened))
        + 4 + ((long)FingerprintBytes * fingerprints);

    private static void Require(bool condition, string section)
    {
        if (!condition)
        {
            throw new InvalidDataException($"The extraction state's {section} section is inconsistent.");
        }
    }
}
