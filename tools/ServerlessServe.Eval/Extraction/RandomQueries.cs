using System.Globalization;
using ServerlessServe.Eval.Attacks;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Extraction;

/// <summary>
/// Synthetic random queries (the simplest extraction attacker): every pixel drawn uniformly from the input range
/// (continuous, 0..16 for digits) by a seeded <see cref="DeterministicRandom"/>; the attacker keeps the labels the
/// model gives them to train its copy.
/// </summary>
public sealed class RandomQueries(ulong seed, PixelRange? range = null, string name = "random") : IQueryStrategy
{
    private readonly PixelRange _range = range ?? PixelRange.Digits;

    public string Name => name;

    public string Description => string.Create(
        CultureInfo.InvariantCulture, $"uniform noise in {_range.Min}..{_range.Max} on {DigitsData.PixelCount} features (seed {seed})");

    public void Run(IQueryOracle oracle)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        var random = new DeterministicRandom(seed);
        while (oracle.Remaining > 0)
        {
            var row = new float[DigitsData.PixelCount];
            for (var p = 0; p < row.Length; p++)
            {
                row[p] = (float)(_range.Min + (random.NextDouble() * (_range.Max - _range.Min)));
            }

            oracle.Query(row);
        }
    }
}
