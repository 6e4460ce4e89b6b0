using System.Numerics;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// The coverage signal's state: the caller's running mean (the centre of the hyperplanes), a bitmap of the cells visited
/// in the current epoch and the coverage of the last complete epoch. Coverage is distinct cells visited divided by the
/// number expected if the epoch's queries had fallen uniformly at random on the 2^bits cells, C·(1 − (1 − 1/C)^q): about 1
/// for random queries, well below for natural inputs that keep returning to a few regions. The mean is a running average
/// over at most the last <see cref="MeanHorizon"/> queries (an exponential average after that), so it follows a slow
/// drift of the caller's inputs.
/// </summary>
internal sealed class CoverageTracker
{
    /// <summary>The running mean weighs the newest query at least 1/<see cref="MeanHorizon"/>.</summary>
    public const int MeanHorizon = 1024;

    private readonly ulong[] _visited;
    private readonly float[] _mean;

    /// <summary>An empty tracker for <paramref name="bits"/>-bit cells and inputs of <paramref name="dimension"/> values.</summary>
    public CoverageTracker(int bits, int dimension)
    {
        Bits = bits;
        _visited = new ulong[Math.Max(1, (1 << bits) / 64)];
        _mean = new float[dimension];
    }

    /// <summary>Bits per cell.</summary>
    public int Bits { get; }

    /// <summary>Queries counted in the current epoch.</summary>
    public int EpochQueries { get; private set; }

    /// <summary>Coverage of the last complete epoch; NaN before the first completes.</summary>
    public double LastCoverage { get; private set; } = double.NaN;

    /// <summary>Queries in the running mean (at most <see cref="MeanHorizon"/>).</summary>
    public int MeanCount { get; private set; }

    /// <summary>The running mean.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>The bitmap of cells visited in the current epoch.</summary>
    public ReadOnlySpan<ulong> Visited => _visited;

    /// <summary>A tracker with the given state (deserialisation).</summary>
    public static CoverageTracker Restore(int bits, int epochQueries, double lastCoverage, int meanCount, ReadOnlySpan<float> mean, ReadOnlySpan<ulong> visited)
    {
        var tracker = new CoverageTracker(bits, mean.Length)
        {
            EpochQueries = epochQueries,
            LastCoverage = lastCoverage,
            MeanCount = meanCount,
        };
        mean.CopyTo(tracker._mean);
        visited.CopyTo(tracker._visited);
        return tracker;
    }

    /// <summary>The coverage expected of <paramref name="queries"/> queries spread uniformly over 2^<paramref name="bits"/> cells.</summary>
    public static double ExpectedDistinct(int bits, int queries)
    {
        var cells = (double)(1 << bits);
        return cells * (1.0 - Math.Pow(1.0 - (1.0 / cells), queries));
    }

    /// <summary>
    /// Updates the mean with <paramref name="query"/>, marks its cell and, when this query completes an epoch of
    /// <paramref name="epochLength"/>, records the epoch's coverage and starts the next.
    /// </summary>
    public void Observe(ReadOnlySpan<float> query, CoveragePlanes planes, int epochLength)
    {
        MeanCount = Math.Min(MeanCount + 1, MeanHorizon);
        var weight = 1f / MeanCount;
        for (var i = 0; i < _mean.Length; i++)
        {
            _mean[i] += (query[i] - _mean[i]) * weight;
        }

        var cell = planes.Cell(query, _mean);
        _visited[cell >> 6] |= 1UL << (cell & 63);
        EpochQueries++;
        if (EpochQueries < epochLength)
        {
            return;
        }

        var distinct = 0;
        foreach (var word in _visited)
        {
            distinct += BitOperations.PopCount(word);
        }

        LastCoverage = distinct / ExpectedDistinct(Bits, EpochQueries);
        Array.Clear(_visited);
        EpochQueries = 0;
    }
}
