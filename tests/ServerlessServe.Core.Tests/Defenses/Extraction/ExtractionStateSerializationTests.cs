using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

public class ExtractionStateSerializationTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Serialize_ThenDeserialize_SameBytesAndSameVerdictsAfterwards()
    {
        var model = new SyntheticCallers(51);
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var original = detector.CreateState(SyntheticCallers.Dimension);
        ExtractionDetectorTests.Run(detector, original, model, model.Benign().Take(700), TimeSpan.FromSeconds(0.2));
        detector.ObserveScreened(original, 130, 3);

        var bytes = detector.Serialize(original);
        var restored = detector.Deserialize(bytes);

        Assert.Equal(bytes, detector.Serialize(restored));
        Assert.Equal(original.QueryCount, restored.QueryCount);
        Assert.Equal(original.GrowingSetCount, restored.GrowingSetCount);
        Assert.Equal(original.ClassCount, restored.ClassCount);
        Assert.Equal(original.DistanceCount, restored.DistanceCount);
        Assert.Equal(original.LastW, restored.LastW);
        Assert.Equal(130, restored.ScreenedCount);
        Assert.Equal(detector.Summarize(original), detector.Summarize(restored));

        // The same continuation (crafted queries, so alarms, evictions and a volume burst happen) gives the same verdicts.
        var next = model.JacobianStyle().Take(400).Concat(model.UniformRandom().Take(400)).ToList();
        var fromOriginal = ExtractionDetectorTests.Run(detector, original, model, next, TimeSpan.FromSeconds(0.1));
        var fromRestored = ExtractionDetectorTests.Run(detector, restored, model, next, TimeSpan.FromSeconds(0.1));
        fromOriginal.Add(detector.ObserveScreened(original, 90, 60));
        fromRestored.Add(detector.ObserveScreened(restored, 90, 60));

        Assert.Equal(fromOriginal, fromRestored);
        Assert.True(restored.RaisedEver.HasFlag(ExtractionSignals.OutOfDistribution));
        Assert.Equal(detector.Serialize(original), detector.Serialize(restored));
        Assert.NotEqual(ExtractionSignals.None, restored.RaisedEver);
    }

    [Fact]
    public void Serialize_FreshState_RoundTrips()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(5);

        var bytes = detector.Serialize(state);
        var restored = detector.Deserialize(bytes);

        Assert.Equal(bytes, detector.Serialize(restored));
        Assert.Equal(5, restored.InputLength);
        Assert.Equal(0, restored.QueryCount);
        Assert.Null(restored.LastW);
    }

    [Fact]
    public void MaxSerializedSize_Defaults_FitOneTablePropertyAt64FeaturesAndThreeAtTheMaximum()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());

        // 36 + 4 + 256(12 + 2·64) + 4 + 32·256 + 4 + 4·500 + 56 + 16 + 4·64 + 8·16 + 4 + 8·⌈200/64⌉ + 4 + 16·500
        Assert.Equal(54_576, detector.MaxSerializedSize(64));
        // Inputs above 256 values are reduced to 256: 36 + 4 + 256(12 + 512) + 4 + 8192 + 4 + 2000 + 56 + 16 + 1024 + 128 + 36 + 8004
        Assert.Equal(153_648, detector.MaxSerializedSize(256));
        Assert.Equal(153_648, detector.MaxSerializedSize(3 * 224 * 224));
        Assert.Equal(3, (detector.MaxSerializedSize(256) + ExtractionStateChunks.MaxChunkBytes - 1) / ExtractionStateChunks.MaxChunkBytes);
        Assert.True(detector.MaxSerializedSize(64) <= ExtractionStateChunks.MaxChunkBytes);
    }

    [Fact]
    public void Serialize_EveryPartFull_SizeEqualsMaxSerializedSize()
    {
        // One stored query per class, so classes and stored queries both reach the pool's cap.
        var options = new ExtractionDetectorOptions
        {
            MaxGrowingSetPerClass = 1, MaxGrowingSet = 16, MinDistances = 20, DistanceWindow = 20, OutOfDistributionWindow = 70, OutOfDistributionMinRows = 10,
            RepeatWindow = 100,
        };
        var detector = new ExtractionDetector(options);
        var state = detector.CreateState(8);
        var random = new Random(61);

        for (var i = 0; i < 400; i++)
        {
            var query = Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble()).ToArray();
            detector.Observe(state, query, i % 16, Start.AddSeconds(i));
            detector.ObserveScreened(state, 1, i % 3 == 0 ? 1 : 0);
        }

        Assert.Equal(70, state.ScreenedCount);
        Assert.Equal(16, state.GrowingSetCount);
        Assert.Equal(16, state.ClassCount);
        Assert.Equal(20, state.DistanceCount);
        Assert.Equal(100, state.Recent.Count);
        Assert.Equal(detector.MaxSerializedSize(8), detector.Serialize(state).Length);
    }

    [Fact]
    public void Deserialize_SmallerCaps_KeepsNewestWithinNewCaps()
    {
        var model = new SyntheticCallers(71);
        var writer = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = writer.CreateState(SyntheticCallers.Dimension);
        ExtractionDetectorTests.Run(writer, state, model, model.Benign().Take(2000), TimeSpan.FromSeconds(1));
        var newestSequence = Enumerable.Range(0, state.Growing.Count).Max(state.Growing.Sequence);
        var lastDistances = Enumerable.Range(400, 100).Select(i => state.Distances[i]).ToArray();
        var reader = new ExtractionDetector(new ExtractionDetectorOptions { MaxGrowingSet = 32, MaxGrowingSetPerClass = 8, DistanceWindow = 100 });

        var trimmed = reader.Deserialize(writer.Serialize(state));

        Assert.Equal(32, trimmed.GrowingSetCount);
        Assert.All(trimmed.Classes.Values, static c => Assert.InRange(c.Members, 1, 8));
        Assert.Equal(newestSequence, Enumerable.Range(0, trimmed.Growing.Count).Max(trimmed.Growing.Sequence));
        Assert.Equal(lastDistances, Enumerable.Range(0, 100).Select(i => trimmed.Distances[i]).ToArray());
        Assert.Equal(state.QueryCount, trimmed.QueryCount);
        Assert.Equal(state.LastW, trimmed.LastW);
    }

    [Fact]
    public void Deserialize_ChangedMaxDimension_StartsStoredQueriesAfresh()
    {
        var writer = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = writer.CreateState(300);
        var random = new Random(81);
        for (var i = 0; i < 50; i++)
        {
            writer.Observe(state, Enumerable.Range(0, 300).Select(_ => (float)random.NextDouble()).ToArray(), i % 3, Start.AddSeconds(i));
        }

        var reader = new ExtractionDetector(new ExtractionDetectorOptions { MaxDimension = 128 });
        var restored = reader.Deserialize(writer.Serialize(state));

        Assert.Equal(128, restored.Dimension);
        Assert.Equal(0, restored.GrowingSetCount);
        Assert.Equal(0, restored.DistanceCount);
        Assert.Equal(50, restored.QueryCount);
        Assert.Equal(50, restored.Volume.Total);
    }

    [Fact]
    public void Deserialize_ChangedVolumeWindow_StartsVolumeAfresh()
    {
        var writer = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = writer.CreateState(2);
        writer.Observe(state, [1f, 2f], 0, Start);
        writer.Observe(state, [2f, 2f], 0, Start);

        var restored = new ExtractionDetector(new ExtractionDetectorOptions { VolumeWindow = TimeSpan.FromMinutes(1) }).Deserialize(writer.Serialize(state));

        Assert.Equal(0, restored.Volume.Total);
        Assert.Equal(2, restored.GrowingSetCount);
        Assert.Equal(1, restored.DistanceCount);
    }

    [Fact]
    public void Deserialize_Version1_LoadsWithAnEmptyScreenWindow_WrittenBackAsVersion3()
    {
        var model = new SyntheticCallers(53);
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(SyntheticCallers.Dimension);
        ExtractionDetectorTests.Run(detector, state, model, model.JacobianStyle().Take(300), TimeSpan.FromSeconds(0.1));
        var version2 = Version2(detector.Serialize(state), state.Recent.Count);
        var version1 = Version1(version2);

        var restored = detector.Deserialize(version1);

        Assert.Equal(0, restored.ScreenedCount);
        Assert.Equal(0, restored.Recent.Count);
        Assert.Equal(state.RaisedEver, restored.RaisedEver);
        Assert.NotEqual(ExtractionSignals.None, restored.RaisedEver);
        Assert.Equal((state.QueryCount, state.GrowingSetCount, state.DistanceCount, state.LastW), (restored.QueryCount, restored.GrowingSetCount, restored.DistanceCount, restored.LastW));
        Assert.Equal(Version3WithoutFingerprints(version2), detector.Serialize(restored));
        Assert.Equal((byte)3, detector.Serialize(restored)[4]);

        // It goes on as the state it was: the window fills from the next request.
        var verdict = detector.ObserveScreened(restored, 50, 50);
        Assert.True(verdict.Signals.HasFlag(ExtractionSignals.OutOfDistribution));
    }

    [Fact]
    public void Deserialize_Version2_LoadsWithNoFingerprints_WrittenBackAsVersion3()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(3);
        for (var i = 0; i < 20; i++)
        {
            detector.Observe(state, [i, 2f, 3f], 0, Start.AddSeconds(i));
            detector.ObserveScreened(state, 1, i % 2);
        }

        var version2 = Version2(detector.Serialize(state), 20);

        var restored = detector.Deserialize(version2);

        Assert.Equal(0, restored.Recent.Count);
        Assert.Equal((state.QueryCount, state.ScreenedCount, state.DistanceCount), (restored.QueryCount, restored.ScreenedCount, restored.DistanceCount));
        Assert.Equal(Version3WithoutFingerprints(version2), detector.Serialize(restored));

        // A query the version 2 state never fingerprinted is still a repeat when it is a stored query of its class.
        Assert.True(detector.Observe(restored, [0f, 2f, 3f], 0, Start.AddMinutes(1)).Repeat);
        Assert.Equal(1, restored.Recent.Count);
    }

    [Fact]
    public void Deserialize_Fingerprints_KeepsTheNewestWithinTheWindow()
    {
        var writer = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = writer.CreateState(3);
        for (var i = 0; i < 30; i++)
        {
            writer.Observe(state, [i, 1f, 1f], 0, Start.AddSeconds(i));
        }

        var reader = new ExtractionDetector(new ExtractionDetectorOptions { RepeatWindow = 10 });
        var restored = reader.Deserialize(writer.Serialize(state));

        Assert.Equal(10, restored.Recent.Count);
        Assert.Equal(Enumerable.Range(20, 10).Select(i => state.Recent[i]), Enumerable.Range(0, 10).Select(i => restored.Recent[i]));
        Assert.Equal(0, new ExtractionDetector(new ExtractionDetectorOptions { RepeatWindow = 0 }).Deserialize(writer.Serialize(state)).Recent.Count);
    }

    [Fact]
    public void Deserialize_Version1WithTheNewSignalOrAScreenSection_ThrowsInvalidData()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(3);
        detector.Observe(state, [1f, 2f, 3f], 0, Start);
        var version1 = Version1(Version2(detector.Serialize(state), 1));

        var withSignal = (byte[])version1.Clone();
        withSignal[5] = (byte)ExtractionSignals.OutOfDistribution;
        byte[] withSection = [.. version1, 0, 0, 0, 0];

        Assert.Contains("header", Assert.Throws<InvalidDataException>(() => detector.Deserialize(withSignal)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => detector.Deserialize(withSection));
        withSignal[4] = 2;
        Assert.Throws<InvalidDataException>(() => detector.Deserialize(withSignal)); // no screen section: truncated as version 2
    }

    [Fact]
    public void Deserialize_ScreenWindow_BitsPastTheRowsHeld_ThrowsInvalidData()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(3);
        detector.ObserveScreened(state, 5, 5);
        var bytes = detector.Serialize(state);

        bytes[^8] |= 1 << 5;                                           // row 6 of 5

        Assert.Contains("screen", Assert.Throws<InvalidDataException>(() => detector.Deserialize(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_SmallerScreenWindow_KeepsTheNewestRows()
    {
        var writer = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = writer.CreateState(3);
        writer.ObserveScreened(state, 100, 0);
        writer.ObserveScreened(state, 100, 100);
        var reader = new ExtractionDetector(new ExtractionDetectorOptions { OutOfDistributionWindow = 100, OutOfDistributionMinRows = 50 });

        var restored = reader.Deserialize(writer.Serialize(state));

        Assert.Equal(100, restored.ScreenedCount);
        Assert.Equal(1.0, reader.Summarize(restored).OutOfDistributionShare);
    }

    [Fact]
    public void Deserialize_EveryTruncation_ThrowsInvalidData()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(3);
        for (var i = 0; i < 30; i++)
        {
            detector.Observe(state, [i, i % 7, 1f], i % 2, Start.AddSeconds(i));
            detector.ObserveScreened(state, 3, i % 4);
        }

        var bytes = detector.Serialize(state);

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => detector.Deserialize(bytes.AsSpan(0, length)));
        }

        Assert.Throws<InvalidDataException>(() => detector.Deserialize([.. bytes, 0]));
    }

    [Fact]
    public void Deserialize_WrongMagicOrVersion_ThrowsInvalidData()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var bytes = detector.Serialize(detector.CreateState(3));

        var magic = (byte[])bytes.Clone();
        magic[0] = (byte)'X';
        var version = (byte[])bytes.Clone();
        version[4] = 4;

        Assert.Contains("not an extraction state", Assert.Throws<InvalidDataException>(() => detector.Deserialize(magic)).Message, StringComparison.Ordinal);
        Assert.Contains("version", Assert.Throws<InvalidDataException>(() => detector.Deserialize(version)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_RandomlyCorrupted_RefusedOrUsable()
    {
        var model = new SyntheticCallers(91);
        var detector = new ExtractionDetector(new ExtractionDetectorOptions { MinDistances = 20, DistanceWindow = 40, MaxGrowingSet = 24, MaxGrowingSetPerClass = 6 });
        var state = detector.CreateState(SyntheticCallers.Dimension);
        ExtractionDetectorTests.Run(detector, state, model, model.Benign().Take(200), TimeSpan.FromSeconds(1));
        detector.ObserveScreened(state, 150, 20);
        var bytes = detector.Serialize(state);
        var random = new Random(91);
        var query = model.Benign().First();
        var refused = 0;

        for (var trial = 0; trial < 2000; trial++)
        {
            var corrupted = (byte[])bytes.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                corrupted[random.Next(corrupted.Length)] ^= (byte)(1 << random.Next(8));
            }

            ExtractionState restored;
            try
            {
                restored = detector.Deserialize(corrupted);
            }
            catch (InvalidDataException)
            {
                refused++;
                continue;
            }

            // Whatever was accepted can be used and saved again.
            if (restored.InputLength == SyntheticCallers.Dimension)
            {
                detector.Observe(restored, query, 1, Start.AddDays(1));
            }

            detector.Deserialize(detector.Serialize(restored));
        }

        Assert.InRange(refused, 1, 1999);
    }

    // A version 2 state from a version 3 one holding this many fingerprints: version 3 is version 2 plus the repeats
    // section, their count and 16 bytes each.
    internal static byte[] Version2(byte[] version3, int fingerprints)
    {
        Assert.Equal(3, version3[4]);
        var sectionStart = version3.Length - 4 - (16 * fingerprints);
        Assert.Equal(fingerprints, BitConverter.ToInt32(version3, sectionStart));
        var version2 = version3[..sectionStart];
        version2[4] = 2;
        return version2;
    }

    // What a version 2 state is written back as when nothing changed: version 3 with no fingerprints.
    private static byte[] Version3WithoutFingerprints(byte[] version2)
    {
        byte[] version3 = [.. version2, 0, 0, 0, 0];
        version3[4] = 3;
        return version3;
    }

    // A version 1 state from a version 2 one whose screen window is empty: version 2 is version 1 plus the screen
    // section, which for an empty window is its count alone (4 bytes of zero).
    private static byte[] Version1(byte[] version2)
    {
        Assert.Equal([0, 0, 0, 0], version2[^4..]);
        var version1 = version2[..^4];
        version1[4] = 1;
        return version1;
    }
}
