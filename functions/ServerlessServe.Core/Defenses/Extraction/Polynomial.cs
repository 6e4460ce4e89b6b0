namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>Polynomial evaluation for the fitted approximations in this folder.</summary>
internal static class Polynomial
{
    /// <summary>c₀ + c₁x + c₂x² + … by Horner's rule; <paramref name="coefficients"/> are lowest degree first.</summary>
    public static double Evaluate(ReadOnlySpan<double> coefficients, double x)
    {
        var result = 0.0;
        for (var i = coefficients.Length - 1; i >= 0; i--)
        {
            result = (result * x) + coefficients[i];
        }

        return result;
    }
}
