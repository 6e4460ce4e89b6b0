namespace ServerlessServe.Eval.Attacks;

/// <summary>An evasion attack bounded in L∞: it moves one input row to raise the model's loss for the true label.</summary>
public interface IAttack
{
    /// <summary>A short name with the budget, for reports (for example <c>FGSM ε=0.1</c>).</summary>
    string Name { get; }

    /// <summary>The L∞ budget on the normalised [0, 1] scale (a fraction of the input range's width).</summary>
    double Epsilon { get; }

    /// <summary>
    /// The adversarial row for <paramref name="input"/> whose true class is <paramref name="label"/>: within
    /// <see cref="Epsilon"/> of the input in L∞ (in input units) and inside the input range. The input is not changed.
    /// </summary>
    float[] Perturb(ReadOnlySpan<float> input, int label);
}
