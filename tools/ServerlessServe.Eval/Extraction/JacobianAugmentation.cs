using System.Globalization;
using ServerlessServe.Eval.Attacks;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Extraction;

/// <summary>
/// Jacobian-based dataset augmentation (Papernot, McDaniel, Goodfellow, Jha, Celik and Swami, "Practical Black-Box
/// Attacks against Machine Learning", AsiaCCS 2017), the synthetic-query extraction attack the PRADA paper detects.
/// The attacker starts from a small seed set S₀ it labels through the model, then repeats: train a substitute F on S
/// (<see cref="SubstituteTrainer"/>), and for every x in S add
/// <c>x' = clip(x + λ·sign(∂F[O(x)]/∂x))</c>, where O(x) is the model's label of x, querying each x' for its label
/// one at a time. S doubles every round; the steps explore where the substitute's decision for x changes fastest.
/// </summary>
/// <param name="seeds">S₀: a few natural rows, for instance one training digit per class.</param>
/// <param name="lambda">λ on the normalised 0..1 scale (0.1, as in the paper: 1.6 pixel counts for digits).</param>
/// <param name="seed">Seeds the substitute's training.</param>
/// <param name="range">Valid input values; the digits pixel range 0..16 when null.</param>
/// <param name="name">Its name in tables and plots.</param>
public sealed class JacobianAugmentation(IReadOnlyList<float[]> seeds, double lambda, ulong seed, PixelRange? range = null, string name = "jacobian") : IQueryStrategy
{
    private readonly PixelRange _range = range ?? PixelRange.Digits;

    public string Name => name;

    public string Description => string.Create(
        CultureInfo.InvariantCulture,
        $"Papernot et al. 2017 from {seeds.Count} seed rows, λ = {lambda} ({_range.ToUnits(lambda)} pixel counts), substitute {DigitsData.PixelCount}-{SubstituteTrainer.DefaultHidden}-{DigitsData.ClassCount} retrained each round");

    /// <summary>Rounds completed (substitutes trained) by the last <see cref="Run"/>.</summary>
    public int Rounds { get; private set; }

    /// <summary>
    /// One augmentation step: <paramref name="row"/> + λ·sign(<paramref name="direction"/>) per pixel, clipped into
    /// <paramref name="range"/>; a pixel whose direction is 0 stays.
    /// </summary>
    /// <param name="direction">∂F[label]/∂x of the substitute at the row (any vector with that sign).</param>
    /// <param name="lambdaUnits">λ in input units.</param>
    public static float[] Step(ReadOnlySpan<float> row, ReadOnlySpan<float> direction, float lambdaUnits, PixelRange range)
    {
        if (row.Length != direction.Length)
        {
            throw new ArgumentException("The direction must have one value per input value.", nameof(direction));
        }

        var next = new float[row.Length];
        for (var i = 0; i < row.Length; i++)
        {
            next[i] = range.Clip(row[i] + (lambdaUnits * MathF.Sign(direction[i])));
        }

        return next;
    }

    /// <summary>
    /// ∂F[label]/∂x of <paramref name="substitute"/> at <paramref name="row"/>, up to a positive factor: the negated
    /// gradient of its cross-entropy loss (∂p/∂x = −p·∂(−ln p)/∂x with p &gt; 0, so the signs agree).
    /// </summary>
    public static float[] Direction(DigitsWeights substitute, ReadOnlySpan<float> row, int label)
    {
        ArgumentNullException.ThrowIfNull(substitute);
        var gradient = substitute.InputGradient(row, label);
        for (var i = 0; i < gradient.Length; i++)
        {
            gradient[i] = -gradient[i];
        }

        return gradient;
    }

    public void Run(IQueryOracle oracle)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        var rows = new List<float[]>();
        var labels = new List<int>();
        foreach (var start in seeds)
        {
            if (oracle.Remaining == 0)
            {
                return;
            }

            rows.Add(start);
            labels.Add(oracle.Query(start));
        }

        var lambdaUnits = _range.ToUnits(lambda);
        Rounds = 0;
        while (oracle.Remaining > 0)
        {
            var substitute = SubstituteTrainer.Train(rows, labels, seed + (ulong)Rounds);
            Rounds++;
            var parents = rows.Count;
            for (var i = 0; i < parents && oracle.Remaining > 0; i++)
            {
                var next = Step(rows[i], Direction(substitute, rows[i], labels[i]), lambdaUnits, _range);
                rows.Add(next);
                labels.Add(oracle.Query(next));
            }
        }
    }
}
