namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// What an <see cref="ExtractionDetector"/> remembers about one caller of one model: PRADA's growing sets, thresholds and
/// recent distances, the volume buckets, the coverage bitmap, the OOD screen's flags on the latest rows and the fingerprints of the latest queries. Bounded by the detector's options whatever the caller
/// sends: at most <see cref="ExtractionDetector.MaxSerializedSize"/> bytes saved, and in memory about 6 bytes per stored
/// value (a float and its half-precision bits) plus the window and small tables, about 125 KB with the defaults and 64
/// features. Made by <see cref="ExtractionDetector.CreateState"/> or <see cref="ExtractionDetector.Deserialize"/>; not
/// thread-safe: handle one caller's queries one at a time.
/// </summary>
public sealed class ExtractionState
{
    internal ExtractionState(int inputLength, int dimension, ExtractionDetectorOptions options, int coverageBits)
    {
        InputLength = inputLength;
        Dimension = dimension;
        Growing = new GrowingSet(options.MaxGrowingSet, dimension);
        Distances = new DistanceWindow(options.DistanceWindow);
        Volume = new VolumeCounter(ExtractionDetector.VolumeBucketTicks(options));
        Coverage = new CoverageTracker(coverageBits, dimension);
        Screen = new ScreenWindow(options.OutOfDistributionWindow);
        Recent = new RecentQueries(options.RepeatWindow);
        DistancesSinceTest = options.TestEvery;
    }

    /// <summary>Values per query this state accepts (the model's flattened input row).</summary>
    public int InputLength { get; }

    /// <summary>Values per stored query: <see cref="InputLength"/>, or the reduced length when inputs are longer than the detector's maximum.</summary>
    public int Dimension { get; }

    /// <summary>Queries observed.</summary>
    public long QueryCount { get; internal set; }

    /// <summary>Every signal raised at least once (they stay until the state is discarded).</summary>
    public ExtractionSignals RaisedEver { get; internal set; }

    /// <summary>Queries held in the growing sets of all classes.</summary>
    public int GrowingSetCount => Growing.Count;

    /// <summary>Classes with at least one query in the growing set.</summary>
    public int ClassCount => Classes.Count;

    /// <summary>Minimum distances held in the window.</summary>
    public int DistanceCount => Distances.Count;

    /// <summary>Screened rows held in the out-of-distribution window.</summary>
    public int ScreenedCount => Screen.Count;

    /// <summary>The latest W; null before the first test, or when the latest window had no spread.</summary>
    public double? LastW => double.IsNaN(LastWValue) ? null : LastWValue;

    internal GrowingSet Growing { get; }

    internal Dictionary<int, ClassThreshold> Classes { get; } = [];

    internal DistanceWindow Distances { get; }

    internal double LastWValue { get; set; } = double.NaN;

    // Distances added since the last test, counted up to the test interval; starts there so the first test comes as soon
    // as the window holds the minimum.
    internal int DistancesSinceTest { get; set; }

    internal VolumeCounter Volume { get; set; }

    internal CoverageTracker Coverage { get; set; }

    internal ScreenWindow Screen { get; set; }

    internal RecentQueries Recent { get; }
}
