using System.Buffers;
using System.Collections.Concurrent;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Detects model-extraction behaviour per caller and model from the queries themselves: PRADA (Juuti, Szyller, Marchal
/// and Asokan, "PRADA: Protecting against DNN Model Stealing Attacks", EuroS&amp;P 2019) plus three simpler signals,
/// volume, coverage and the share of the caller's rows the model's out-of-distribution screen flags. Pure logic: the
/// caller keeps one <see cref="ExtractionState"/> per caller and model, passes each query with the model's predicted
/// class and the time (and, for a model with an OOD screen, each request's screened and flagged rows,
/// <see cref="ObserveScreened"/>), and persists the state with <see cref="Serialize"/>.
/// </summary>
/// <remarks>
/// <para>
/// PRADA, for a query x predicted as class c: d = the smallest Euclidean distance from x to the stored queries of class c
/// (its growing set G_c). When G_c is empty, x starts it and nothing else happens. Otherwise d joins the distance window
/// D, and x joins G_c when d &gt; T_c, after which T_c = max(T_c, mean − std of the distances of the queries that joined
/// G_c). Natural queries give distances close to normally distributed; queries crafted as small steps from a few seeds
/// do not (a spike of near-equal small distances beside the seeds' large ones). Once D holds
/// <see cref="ExtractionDetectorOptions.MinDistances"/> values, the Shapiro–Wilk W of D, less the values more than
/// <see cref="ExtractionDetectorOptions.OutlierStandardDeviations"/> standard deviations from its mean, is compared
/// with δ.
/// </para>
/// <para>
/// Bounds (the paper keeps everything): D is the latest <see cref="ExtractionDetectorOptions.DistanceWindow"/>
/// distances; G_c holds at most <see cref="ExtractionDetectorOptions.MaxGrowingSetPerClass"/> queries and all classes
/// together at most <see cref="ExtractionDetectorOptions.MaxGrowingSet"/>, the oldest leaving first (of the class, then
/// of all); inputs longer than <see cref="ExtractionDetectorOptions.MaxDimension"/> are reduced by feature hashing.
/// </para>
/// <para>
/// Repeats: a query that, at half precision, equals one of the caller's latest
/// <see cref="ExtractionDetectorOptions.RepeatWindow"/> queries with the same predicted class, or a stored query of that
/// class, counts towards volume only: no distance, no growing set, no coverage. A client's retries would otherwise put
/// distances of 0 in D, a spike the test reads as crafted queries.
/// </para>
/// <para>
/// Out of distribution: the OOD screen's flag on each of the caller's latest
/// <see cref="ExtractionDetectorOptions.OutOfDistributionWindow"/> screened rows, one bit each; the signal is raised while
/// the share flagged is at least <see cref="ExtractionDetectorOptions.OutOfDistributionThreshold"/>, once
/// <see cref="ExtractionDetectorOptions.OutOfDistributionMinRows"/> are held. Synthetic queries (random noise, steps
/// along a substitute's gradient) leave the training distribution the screen's profile describes, which is what PRADA's
/// distance test misses when the steps' distances happen to look normal.
/// </para>
/// <para>
/// Cost per query: the input is copied, or, when longer than <see cref="ExtractionDetectorOptions.MaxDimension"/>,
/// feature-hashed through a table kept per input length; one distance per stored query of the predicted class (at most
/// 64 × 64 multiply-adds with the defaults, vectorised); a stored query is rounded to half precision when it joins; the
/// distance window keeps a sorted copy (a binary search and a block move per distance); a projection on
/// <see cref="ExtractionDetectorOptions.CoverageBits"/> directions for coverage; a bit in the OOD window per screened
/// row; and every <see cref="ExtractionDetectorOptions.TestEvery"/> distances a Shapiro–Wilk test, which on the sorted window is a trim
/// of outliers from both ends and one pass (the coefficients for each sample size are computed once per detector and
/// cached: at most one set per size up to the window, about 0.5 MB in all at the default window of 500). Measured in
/// Release on a 2-core machine shared with other builds (load average about 9; best of 32 runs of 1,000 queries): about
/// 3 µs per query with the defaults on 64 features (6 µs testing on every distance), 17 µs for 3,072 values and 0.4 ms
/// for 224 × 224 × 3 (mostly the hashing); saving a 64-feature state about 35 µs, loading it about 0.2 ms. Recognising
/// repeats adds a SHA-256 fingerprint and a look through the latest fingerprints, about 0.9 µs on 64 features
/// (<c>ExtractionBenchmarks</c>).
/// </para>
/// <para>Thread-safe: one detector serves all callers of the models that share its options.</para>
/// </remarks>
public sealed partial class ExtractionDetector
{
    // Up to this many values per query the reduced query lives on the stack.
    private const int StackDimension = 1024;

    // Feature-hashing tables kept, one per input length above the maximum dimension (4 bytes per input value each);
    // a detector serving more lengths than this hashes the others on every query.
    private const int MaxHashTables = 16;

    private readonly ExtractionDetectorOptions _options;
    private readonly ConcurrentDictionary<int, double[]> _coefficients = new();
    private readonly ConcurrentDictionary<int, CoveragePlanes> _planes = new();
    private readonly ConcurrentDictionary<int, int[]> _hashTables = new();

    /// <summary>A detector with a copy of <paramref name="options"/>.</summary>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">An option is out of range.</exception>
    public ExtractionDetector(ExtractionDetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
    }

    /// <summary>A fresh state for a caller of a model whose input rows have <paramref name="inputLength"/> values.</summary>
    public ExtractionState CreateState(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputLength, 1);
        var dimension = Math.Min(inputLength, _options.MaxDimension);
        return new ExtractionState(inputLength, dimension, _options, CoverageBitsFor(dimension));
    }

    /// <summary>
    /// Observes one query of the caller whose state is <paramref name="state"/> and returns the signals as of it: the same
    /// as <see cref="TryReduce"/> then <see cref="ObserveReduced"/>.
    /// </summary>
    /// <param name="state">The caller's state for this model; updated in place.</param>
    /// <param name="input">The query: the model's flattened input row, <see cref="ExtractionState.InputLength"/> values.</param>
    /// <param name="predictedClass">The class the model predicted for it (for instance the arg-max of its scores), 0 or more.</param>
    /// <param name="now">The time of the query, for the volume signal.</param>
    /// <exception cref="ArgumentException">
    /// The input has the wrong length or holds a NaN or infinite value (the state is then unchanged).
    /// </exception>
    public ExtractionVerdict Observe(ExtractionState state, ReadOnlySpan<float> input, int predictedClass, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentOutOfRangeException.ThrowIfNegative(predictedClass);
        if (input.Length != state.InputLength)
        {
            throw new ArgumentException("The query does not have the input length of this state.", nameof(input));
        }

        float[]? rented = null;
        var query = state.Dimension <= StackDimension
            ? stackalloc float[state.Dimension]
            : (rented = ArrayPool<float>.Shared.Rent(state.Dimension)).AsSpan(0, state.Dimension);
        try
        {
            if (!TryReduce(input, query))
            {
                throw new ArgumentException("The query holds a NaN or infinite value.", nameof(input));
            }

            return ObserveCore(state, query, predictedClass, now, state.Recent.Capacity > 0 ? Fingerprint(predictedClass, input) : null);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The fingerprint of <paramref name="input"/>, a query of class <paramref name="predictedClass"/>, as sent: by it a
    /// repeat is known (<see cref="ObserveReduced"/>). Since 2026-12-07 a repeat is an exact repeat: a query that only
    /// reduces like an earlier one (clamped to ±65,504, rounded to half precision, feature-hashed past
    /// <see cref="ExtractionDetectorOptions.MaxDimension"/> values) counts, at its distance (found in review: crafted
    /// queries that reduce alike passed as repeats, seen by volume alone).
    /// </summary>
    public QueryFingerprint Fingerprint(int predictedClass, ReadOnlySpan<float> input)
    {
        var lossless = input.Length <= _options.MaxDimension;
        for (var i = 0; lossless && i < input.Length; i++)
        {
            lossless = input[i] == (float)(Half)input[i];
        }

        return new QueryFingerprint(RecentQueries.Fingerprint(predictedClass, input), lossless);
    }

    /// <summary>
    /// Values per reduced query (what a state stores and <see cref="TryReduce"/> writes) for input rows of
    /// <paramref name="inputLength"/> values: the length itself, or <see cref="ExtractionDetectorOptions.MaxDimension"/>
    /// when longer.
    /// </summary>
    public int ReducedLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputLength, 1);
        return Math.Min(inputLength, _options.MaxDimension);
    }

    /// <summary>
    /// Writes the query as the detector keeps it into <paramref name="reduced"/> (<see cref="ReducedLength"/> values):
    /// values clamped to the half-precision range, and feature-hashed when the input is longer than
    /// <see cref="ExtractionDetectorOptions.MaxDimension"/>. Every instance reduces a query alike, so a reduced query can
    /// be kept and observed later, elsewhere (<see cref="ObserveReduced"/>). Returns false, leaving
    /// <paramref name="reduced"/> unspecified, when the input holds a NaN or infinite value.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="reduced"/> is not <see cref="ReducedLength"/> long.</exception>
    public bool TryReduce(ReadOnlySpan<float> input, Span<float> reduced)
    {
        if (input.IsEmpty || reduced.Length != ReducedLength(input.Length))
        {
            throw new ArgumentException("The reduced query must have the reduced length of the input.", nameof(reduced));
        }

        var table = input.Length == reduced.Length ? default : HashTable(input.Length);
        return FeatureHashing.TryReduce(input, reduced, table);
    }

    /// <summary>
    /// Observes a query already reduced by <see cref="TryReduce"/> (the same query observed with
    /// <see cref="Observe"/> gives the same verdict and state when <paramref name="fingerprint"/> is the input's,
    /// <see cref="Fingerprint"/>). Used to replay queries kept since the state
    /// was saved into the state as stored by another instance. Without a fingerprint a repeat is judged on the reduced
    /// query, which queries crafted to reduce alike pass.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The query is not <see cref="ExtractionState.Dimension"/> long or holds a value outside the half-precision range
    /// (the state is then unchanged).
    /// </exception>
    public ExtractionVerdict ObserveReduced(ExtractionState state, ReadOnlySpan<float> reduced, int predictedClass, DateTimeOffset now, QueryFingerprint? fingerprint = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentOutOfRangeException.ThrowIfNegative(predictedClass);
        if (reduced.Length != state.Dimension)
        {
            throw new ArgumentException("The reduced query does not have the dimension of this state.", nameof(reduced));
        }

        foreach (var value in reduced)
        {
            if (!(Math.Abs(value) <= GrowingSet.HalfMax))
            {
                throw new ArgumentException("The reduced query holds a value no reduction gives.", nameof(reduced));
            }
        }

        return ObserveCore(state, reduced, predictedClass, now, fingerprint);
    }

    /// <summary>
    /// Observes the outcome of the model's out-of-distribution screen on one request of the caller whose state is
    /// <paramref name="state"/>: <paramref name="rows"/> rows screened, <paramref name="flaggedRows"/> of them flagged
    /// (refused or not; a screen in shadow mode flags all the same). They join the window of the out-of-distribution
    /// signal (<see cref="ExtractionDetectorOptions.OutOfDistributionWindow"/>), which is raised while at least
    /// <see cref="ExtractionDetectorOptions.OutOfDistributionThreshold"/> of the rows held are flagged, once
    /// <see cref="ExtractionDetectorOptions.OutOfDistributionMinRows"/> are held. Nothing else changes: the rows are not
    /// queries (<see cref="Observe"/> counts those the model answers). Returns the signals as they then stand, the other
    /// signals as of the latest query (as <see cref="Summarize"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, or more rows are flagged than screened (the state is then unchanged).</exception>
    public ExtractionVerdict ObserveScreened(ExtractionState state, int rows, int flaggedRows, DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(flaggedRows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(flaggedRows, rows);
        state.Screen.Add(rows, flaggedRows);
        if (OutOfDistributionShare(state) >= _options.OutOfDistributionThreshold)
        {
            state.RaisedEver |= ExtractionSignals.OutOfDistribution;
        }

        return Summarize(state, now);
    }

    /// <summary>
    /// The signals of <paramref name="state"/> as of its latest query, without observing one: for an alarm that comes
    /// from merging states rather than from a query (no distance or class threshold then). With <paramref name="now"/>,
    /// the volume is the window's as of then: queries that have left it since the latest query do not count. (Before
    /// 2026-12-07 they did, so a caller blocked for going over the volume limit, whose first request after the block
    /// was screened before the model, read as over the limit again and was blocked for another hour.)
    /// </summary>
    public ExtractionVerdict Summarize(ExtractionState state, DateTimeOffset? now = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        var volume = now is { } at ? state.Volume.TotalAt(at) : state.Volume.Total;
        var signals = ExtractionSignals.None;
        if (state.LastWValue < _options.Delta)
        {
            signals |= ExtractionSignals.DistanceDistribution;
        }

        if (volume > _options.VolumeLimit)
        {
            signals |= ExtractionSignals.Volume;
        }

        if (state.Coverage.LastCoverage >= _options.CoverageThreshold)
        {
            signals |= ExtractionSignals.Coverage;
        }

        if (OutOfDistributionShare(state) >= _options.OutOfDistributionThreshold)
        {
            signals |= ExtractionSignals.OutOfDistribution;
        }

        return Verdict(state, signals, null, 0.0, volume);
    }

    /// <summary>Length in ticks of one volume bucket (a tenth of the volume window).</summary>
    internal static long VolumeBucketTicks(ExtractionDetectorOptions options) => options.VolumeWindow.Ticks / VolumeCounter.Buckets;

    private int CoverageBitsFor(int dimension) => Math.Min(_options.CoverageBits, dimension);

    private ExtractionVerdict ObserveCore(ExtractionState state, ReadOnlySpan<float> query, int predictedClass, DateTimeOffset now, QueryFingerprint? fingerprint)
    {
        state.QueryCount++;
        var signals = ExtractionSignals.None;

        // A repeat tells the caller nothing new: it counts towards volume only.
        var repeat = state.Recent.Capacity > 0 && IsRepeat(state, query, predictedClass, fingerprint);
        var minDistance = repeat ? null : state.Growing.NearestDistance(predictedClass, query);
        if (minDistance is null && !repeat)
        {
            Join(state, predictedClass, query, null);
        }
        else if (minDistance is { } distance)
        {
            state.Distances.Add((float)distance);
            if (state.DistancesSinceTest < _options.TestEvery)
            {
                state.DistancesSinceTest++;
            }

            if (distance > state.Classes[predictedClass].Threshold)
            {
                Join(state, predictedClass, query, distance);
            }

            if (state.Distances.Count >= _options.MinDistances && state.DistancesSinceTest >= _options.TestEvery)
            {
                state.LastWValue = WindowStatistic(state.Distances, state.Recent.Capacity > 0);
                state.DistancesSinceTest = 0;
            }
        }

        if (state.LastWValue < _options.Delta)
        {
            signals |= ExtractionSignals.DistanceDistribution;
        }

        var volume = state.Volume.Record(now);
        if (volume > _options.VolumeLimit)
        {
            signals |= ExtractionSignals.Volume;
        }

        if (!repeat)
        {
            state.Coverage.Observe(query, Planes(state.Dimension), _options.CoverageEpoch);
        }

        if (state.Coverage.LastCoverage >= _options.CoverageThreshold)
        {
            signals |= ExtractionSignals.Coverage;
        }

        if (OutOfDistributionShare(state) >= _options.OutOfDistributionThreshold)
        {
            signals |= ExtractionSignals.OutOfDistribution;
        }

        state.RaisedEver |= signals;
        return Verdict(
            state,
            signals,
            minDistance,
            state.Classes.TryGetValue(predictedClass, out var threshold) ? threshold.Threshold : 0.0,
            volume,
            repeat);
    }

    // Whether the query repeats, exactly as sent, one of the caller's latest queries of the same class (by the fingerprint
    // of its values before reduction), or a stored query of that class when its reduction keeps it whole (the stored
    // form is then the query itself). A query that only reduces like an earlier one is no repeat: its distance (0) goes
    // to the test like any other. Either way its fingerprint becomes the newest held, so a query repeated now and then
    // stays recognised. Without the input's fingerprint (a reduced query observed alone), the reduced query at half
    // precision is compared, with the stored queries of that class too.
    private static bool IsRepeat(ExtractionState state, ReadOnlySpan<float> query, int label, QueryFingerprint? fingerprint)
    {
        if (fingerprint is { } exact)
        {
            var seen = state.Recent.Contains(exact.Value) || (exact.Lossless && state.Growing.Contains(label, query));
            state.Recent.Add(exact.Value);
            return seen;
        }

        ushort[]? rentedHalves = null;
        float[]? rentedRounded = null;
        var halves = query.Length <= StackDimension
            ? stackalloc ushort[query.Length]
            : (rentedHalves = ArrayPool<ushort>.Shared.Rent(query.Length)).AsSpan(0, query.Length);
        var rounded = query.Length <= StackDimension
            ? stackalloc float[query.Length]
            : (rentedRounded = ArrayPool<float>.Shared.Rent(query.Length)).AsSpan(0, query.Length);
        try
        {
            for (var i = 0; i < query.Length; i++)
            {
                // The reduction has clamped every value to the half-precision range.
                var half = (Half)query[i];
                halves[i] = BitConverter.HalfToUInt16Bits(half);
                rounded[i] = (float)half;
            }

            var reducedFingerprint = RecentQueries.Fingerprint(label, halves);
            var repeat = state.Recent.Contains(reducedFingerprint) || state.Growing.Contains(label, rounded);
            state.Recent.Add(reducedFingerprint);
            return repeat;
        }
        finally
        {
            if (rentedHalves is not null)
            {
                ArrayPool<ushort>.Shared.Return(rentedHalves);
            }

            if (rentedRounded is not null)
            {
                ArrayPool<float>.Shared.Return(rentedRounded);
            }
        }
    }

    // The share of flagged rows in the screen window; NaN (compares false) while fewer than the minimum are held.
    private double OutOfDistributionShare(ExtractionState state) =>
        state.Screen.Count >= _options.OutOfDistributionMinRows ? state.Screen.Flagged / (double)state.Screen.Count : double.NaN;

    private ExtractionVerdict Verdict(ExtractionState state, ExtractionSignals signals, double? minDistance, double classThreshold, int volume, bool repeat = false)
    {
        var share = OutOfDistributionShare(state);
        return new ExtractionVerdict(
            state.QueryCount,
            signals,
            state.RaisedEver,
            minDistance,
            classThreshold,
            state.LastW,
            _options.Delta,
            state.Distances.Count,
            volume,
            _options.VolumeLimit,
            double.IsNaN(state.Coverage.LastCoverage) ? null : state.Coverage.LastCoverage,
            _options.CoverageThreshold,
            double.IsNaN(share) ? null : share,
            state.Screen.Count,
            _options.OutOfDistributionThreshold,
            repeat);
    }

    // x joins G_c, then its distance, if any, updates T_c.
    private void Join(ExtractionState state, int label, ReadOnlySpan<float> query, double? distance)
    {
        var threshold = Store(state, label, state.QueryCount, query, default);
        if (distance is { } joined)
        {
            threshold.Record(joined);
        }
    }

    // Stores a query in G_c after making room: the class's oldest goes when the class is full, then the oldest of all
    // when the pool is. The query comes as floats (a new query) or, when those are empty, as half-precision bits (a
    // saved state). Returns the class's threshold (new when the class had no stored query).
    private ClassThreshold Store(ExtractionState state, int label, long sequence, ReadOnlySpan<float> query, ReadOnlySpan<ushort> saved)
    {
        if (state.Classes.TryGetValue(label, out var known) && known.Members >= _options.MaxGrowingSetPerClass)
        {
            // The class keeps its threshold: the newcomer takes its oldest query's place.
            Evict(state, state.Growing.OldestSlot(label), forgetEmptied: false);
        }

        if (state.Growing.Count == state.Growing.Capacity)
        {
            Evict(state, state.Growing.OldestSlot(), forgetEmptied: true);
        }

        if (!state.Classes.TryGetValue(label, out var threshold))
        {
            threshold = new ClassThreshold();
            state.Classes[label] = threshold;
        }

        if (query.IsEmpty)
        {
            state.Growing.AddHalves(label, sequence, saved);
        }
        else
        {
            state.Growing.Add(label, sequence, query);
        }

        threshold.Members++;
        return threshold;
    }

    // When the pool makes room, a class whose last stored query leaves is forgotten, threshold included.
    private static void Evict(ExtractionState state, int slot, bool forgetEmptied)
    {
        var label = state.Growing.Label(slot);
        state.Growing.RemoveAt(slot);
        var threshold = state.Classes[label];
        threshold.Members--;
        if (threshold.Members == 0 && forgetEmptied)
        {
            state.Classes.Remove(label);
        }
    }

    // W of the window less its outliers; 0 when fewer than 3 values remain or they are all equal, NaN when those are all
    // 0 and repeats are not recognised (the same query again and again with repeat detection off: nothing learnt, no
    // shape). With repeats recognised a distance of 0 is a query that only reduces like a stored one, and a window of
    // them is probing below what the state can tell apart: 0, an alarm. No spread at all is the
    // extreme of the spike of near-equal distances the test looks for (a finite-difference sweep, x ± e_i on integer
    // inputs, gives every distance exactly 1): until 2026-12-07 it read NaN, which no δ is above, so it never alarmed.
    // The window is kept sorted, so the values within k standard deviations of the mean are one contiguous run (|v - mean|
    // falls then rises along it), found by trimming both ends, and the test is one pass over that run.
    private double WindowStatistic(DistanceWindow window, bool repeatsRecognised)
    {
        var sorted = window.Sorted;
        var low = 0;
        var high = sorted.Length;
        if (_options.OutlierStandardDeviations > 0.0)
        {
            var mean = 0.0;
            foreach (var value in sorted)
            {
                mean += value;
            }

            mean /= sorted.Length;
            var squares = 0.0;
            foreach (var value in sorted)
            {
                squares += (value - mean) * (value - mean);
            }

            var limit = _options.OutlierStandardDeviations * Math.Sqrt(squares / sorted.Length);
            while (low < high && !(Math.Abs(sorted[low] - mean) <= limit))
            {
                low++;
            }

            while (high > low && !(Math.Abs(sorted[high - 1] - mean) <= limit))
            {
                high--;
            }
        }

        var kept = high - low;
        if (kept < ShapiroWilk.MinSampleSize || sorted[low] == sorted[high - 1])
        {
            return !repeatsRecognised && kept > 0 && sorted[low] == 0f && sorted[high - 1] == 0f ? double.NaN : 0.0;
        }

        var buffer = ArrayPool<double>.Shared.Rent(kept);
        try
        {
            var sample = buffer.AsSpan(0, kept);
            for (var i = 0; i < kept; i++)
            {
                sample[i] = sorted[low + i];
            }

            var coefficients = _coefficients.GetOrAdd(kept, ShapiroWilk.Coefficients);
            return ShapiroWilk.Statistic(sample, coefficients).W;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    private ReadOnlySpan<int> HashTable(int inputLength)
    {
        if (_hashTables.TryGetValue(inputLength, out var table))
        {
            return table;
        }

        table = FeatureHashing.Table(inputLength, _options.MaxDimension);
        return _hashTables.Count < MaxHashTables ? _hashTables.GetOrAdd(inputLength, table) : table;
    }

    private CoveragePlanes Planes(int dimension) =>
        _planes.GetOrAdd(dimension, static (d, bits) => new CoveragePlanes(d, bits), _options.CoverageBits);
}
