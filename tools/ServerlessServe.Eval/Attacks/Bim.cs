using System.Globalization;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Attacks;

/// <summary>
/// The basic iterative method (Kurakin et al., 2017), also projected gradient descent in L∞ (Madry et al., 2018):
/// <see cref="Iterations"/> sign-gradient steps of size α, each followed by projection onto the ε-ball around the
/// original row and clipping into the input range:
/// <c>x₀ = x</c>, <c>xₜ₊₁ = clip[max(x−ε, min), min(x+ε, max)](xₜ + α·sign(∇ₓL(xₜ, y)))</c>.
/// With a random-start seed it is PGD: x₀ is drawn uniformly from the ε-ball (within the range) first. The draw is
/// seeded by the seed and the row's values, so a row gets the same start whatever order rows are attacked in.
/// </summary>
public sealed class Bim : IAttack
{
    /// <summary>Steps unless told otherwise.</summary>
    public const int DefaultIterations = 20;

    /// <summary>Default α as a multiple of ε / iterations (Madry et al. use 2.5: the walk can cross the ball and back).</summary>
    public const double DefaultStepFactor = 2.5;

    private readonly LossGradient _gradient;

    /// <param name="gradient">The model's loss gradient.</param>
    /// <param name="epsilon">L∞ budget on the normalised scale, 0..1.</param>
    /// <param name="iterations">Gradient steps, at least 1.</param>
    /// <param name="stepSize">α on the normalised scale; 2.5·ε / iterations when null.</param>
    /// <param name="randomStartSeed">When set, start from a uniform random point of the ε-ball (PGD).</param>
    /// <param name="range">Valid input values; the digits pixel range 0..16 when null.</param>
    public Bim(LossGradient gradient, double epsilon, int iterations = DefaultIterations, double? stepSize = null, ulong? randomStartSeed = null, PixelRange? range = null)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        Budget.Check(epsilon);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var alpha = stepSize ?? (DefaultStepFactor * epsilon / iterations);
        if (!double.IsFinite(alpha) || alpha < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stepSize), "α must be finite and not negative.");
        }

        _gradient = gradient;
        Epsilon = epsilon;
        Iterations = iterations;
        StepSize = alpha;
        RandomStartSeed = randomStartSeed;
        Range = range ?? PixelRange.Digits;
        EpsilonUnits = Range.ToUnits(epsilon);
        StepUnits = Range.ToUnits(alpha);
    }

    public string Name => string.Create(
        CultureInfo.InvariantCulture, $"{(RandomStartSeed is null ? "BIM" : "PGD")} ε={Epsilon} α={StepSize:0.####} steps={Iterations}");

    public double Epsilon { get; }

    public int Iterations { get; }

    /// <summary>α on the normalised scale.</summary>
    public double StepSize { get; }

    public ulong? RandomStartSeed { get; }

    public PixelRange Range { get; }

    /// <summary>ε in input units.</summary>
    public float EpsilonUnits { get; }

    /// <summary>α in input units.</summary>
    public float StepUnits { get; }

    public float[] Perturb(ReadOnlySpan<float> input, int label)
    {
        var lower = new float[input.Length];
        var upper = new float[input.Length];
        for (var i = 0; i < input.Length; i++)
        {
            lower[i] = Range.Clip(input[i] - EpsilonUnits);
            upper[i] = Range.Clip(input[i] + EpsilonUnits);
        }

        var adversarial = input.ToArray();
        if (RandomStartSeed is { } seed)
        {
            var random = new DeterministicRandom(seed ^ Fingerprint(input));
            for (var i = 0; i < adversarial.Length; i++)
            {
                var offset = (float)(((2 * random.NextDouble()) - 1) * EpsilonUnits);
                adversarial[i] = Math.Clamp(input[i] + offset, lower[i], upper[i]);
            }
        }

        for (var step = 0; step < Iterations; step++)
        {
            var gradient = _gradient(adversarial, label);
            Budget.CheckLength(gradient, input);
            for (var i = 0; i < adversarial.Length; i++)
            {
                adversarial[i] = Math.Clamp(adversarial[i] + (StepUnits * MathF.Sign(gradient[i])), lower[i], upper[i]);
            }
        }

        return adversarial;
    }

    /// <summary>FNV-1a over the row's bits: a per-row seed that does not depend on the order rows are attacked in.</summary>
    private static ulong Fingerprint(ReadOnlySpan<float> input)
    {
        var hash = 14695981039346656037UL;
        foreach (var value in input)
        {
            hash = (hash ^ BitConverter.SingleToUInt32Bits(value)) * 1099511628211UL;
        }

        return hash;
    }
}
