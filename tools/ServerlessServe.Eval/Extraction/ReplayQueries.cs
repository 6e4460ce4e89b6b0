using System.Globalization;
using ServerlessServe.Eval.Attacks;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Extraction;

/// <summary>
/// A caller that sends natural digits: rows of a pool drawn uniformly with replacement, in an order of its own (the
/// seed), each with small independent Gaussian jitter on every pixel (standard deviation <paramref name="jitter"/>
/// pixel counts), clipped to the input range. With the held-out test digits as the pool it is a benign caller; with the
/// training digits, an extraction attacker that only sends natural-looking queries.
/// </summary>
/// <param name="name">Its name in tables and plots.</param>
/// <param name="pool">The rows replayed.</param>
/// <param name="seed">Seeds the order and the jitter.</param>
/// <param name="jitter">Standard deviation of the per-pixel noise, in pixel counts; 0 replays rows exactly.</param>
/// <param name="poolName">What the pool is, for the description.</param>
public sealed class ReplayQueries(string name, IReadOnlyList<float[]> pool, ulong seed, double jitter, string poolName) : IQueryStrategy
{
    private readonly PixelRange _range = PixelRange.Digits;

    public string Name => name;

    public string Description => string.Create(
        CultureInfo.InvariantCulture, $"{poolName} ({pool.Count} rows) drawn with replacement, jitter σ = {jitter} pixel counts (seed {seed})");

    public void Run(IQueryOracle oracle)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        if (pool.Count == 0)
        {
            throw new InvalidOperationException("The pool is empty.");
        }

        var random = new DeterministicRandom(seed);
        while (oracle.Remaining > 0)
        {
            var source = pool[(int)(random.NextUInt64() % (ulong)pool.Count)];
            var row = new float[source.Length];
            for (var p = 0; p < row.Length; p++)
            {
                row[p] = jitter == 0 ? source[p] : _range.Clip((float)(source[p] + random.NextNormal(0, jitter)));
            }

            oracle.Query(row);
        }
    }
}
