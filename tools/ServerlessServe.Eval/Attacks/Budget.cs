namespace ServerlessServe.Eval.Attacks;

/// <summary>Argument checks the attacks share.</summary>
internal static class Budget
{
    public static void Check(double epsilon)
    {
        if (!double.IsFinite(epsilon) || epsilon is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), "ε is a fraction of the input range, 0..1.");
        }
    }

    public static void CheckLength(float[] gradient, ReadOnlySpan<float> input)
    {
        if (gradient.Length != input.Length)
        {
            throw new InvalidOperationException("The gradient does not have one element per input element.");
        }
    }
}
