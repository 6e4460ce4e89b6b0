using System.Globalization;

namespace ServerlessServe.Eval.Attacks;

/// <summary>
/// The fast gradient sign method (Goodfellow et al., 2015): one step of size ε along the sign of the loss gradient,
/// <c>x' = clip(x + ε·sign(∇ₓL(x, y)))</c>, clipped into the input range. Needs white-box gradients.
/// </summary>
public sealed class Fgsm : IAttack
{
    private readonly LossGradient _gradient;

    /// <param name="gradient">The model's loss gradient.</param>
    /// <param name="epsilon">L∞ budget on the normalised scale, 0..1 (0.3 is the usual MNIST budget).</param>
    /// <param name="range">Valid input values; the digits pixel range 0..16 when null.</param>
    public Fgsm(LossGradient gradient, double epsilon, PixelRange? range = null)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        Budget.Check(epsilon);
        _gradient = gradient;
        Epsilon = epsilon;
        Range = range ?? PixelRange.Digits;
        EpsilonUnits = Range.ToUnits(epsilon);
    }

    public string Name => string.Create(CultureInfo.InvariantCulture, $"FGSM ε={Epsilon}");

    public double Epsilon { get; }

    /// <summary>The budget in input units (ε·16 for digits).</summary>
    public float EpsilonUnits { get; }

    public PixelRange Range { get; }

    public float[] Perturb(ReadOnlySpan<float> input, int label)
    {
        var gradient = _gradient(input, label);
        Budget.CheckLength(gradient, input);
        var adversarial = new float[input.Length];
        for (var i = 0; i < input.Length; i++)
        {
            adversarial[i] = Range.Clip(input[i] + (EpsilonUnits * MathF.Sign(gradient[i])));
        }

        return adversarial;
    }
}
