namespace ServerlessServe.Local.Samples;

/// <summary>
/// Functions computed only with IEEE-754 add, multiply and divide (each correctly rounded, so bit-identical on every
/// runtime and CPU), for training code whose result must not depend on the platform's <see cref="Math.Exp"/>.
/// </summary>
internal static class DeterministicMath
{
    private const double Ln2 = 0.6931471805599453;

    /// <summary>
    /// e^<paramref name="x"/> to within a few ulps: x = k·ln 2 + r with |r| ≤ ln 2 / 2, then a degree-13 Taylor
    /// polynomial for e^r (truncation error below 1e-17) scaled by 2^k exactly. Underflows to 0 below −700.
    /// </summary>
    public static double Exp(double x)
    {
        if (x < -700.0)
        {
            return 0.0;
        }

        if (x > 700.0)
        {
            throw new ArgumentOutOfRangeException(nameof(x), "Too large for this exp.");
        }

        var k = Math.Round(x / Ln2, MidpointRounding.ToEven);
        var r = x - (k * Ln2);
        var term = 1.0;
        var sum = 1.0;
        for (var n = 1; n <= 13; n++)
        {
            term = term * r / n;
            sum += term;
        }

        return Math.ScaleB(sum, (int)k);
    }
}
