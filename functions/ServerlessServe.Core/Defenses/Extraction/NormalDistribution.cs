namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// The standard normal distribution in double precision: its quantile (inverse CDF), its upper tail and the
/// complementary error function it rests on. Written for the Shapiro–Wilk p-value, which needs both tails accurately
/// (relative error near 1e-15 down to the smallest doubles).
/// </summary>
internal static class NormalDistribution
{
    // Wichura (1988), algorithm AS 241 (PPND16): rational approximations of the normal quantile, relative accuracy
    // about 1e-16. Central region |p - 0.5| <= 0.425 in r = 0.180625 - q^2; tails in r = sqrt(-ln(min(p, 1 - p))),
    // shifted by 1.6 for r <= 5 and by 5 beyond. Coefficients are lowest degree first; the denominators' leading 1 is
    // written out.
    private static readonly double[] CentralNumerator =
    [
        3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3, 1.3731693765509461125e+4,
        4.5921953931549871457e+4, 6.7265770927008700853e+4, 3.3430575583588128105e+4, 2.5090809287301226727e+3,
    ];

    private static readonly double[] CentralDenominator =
    [
        1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
        2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4, 5.2264952788528545610e+3,
    ];

    private static readonly double[] NearNumerator =
    [
        1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
        1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4,
    ];

    private static readonly double[] NearDenominator =
    [
        1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
        1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9,
    ];

    private static readonly double[] FarNumerator =
    [
        6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
        2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
    ];

    private static readonly double[] FarDenominator =
    [
        1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
        7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15,
    ];

    // Below this argument erfc comes from the all-positive Taylor series of erf; at and above it from the continued
    // fraction, which converges in a few dozen terms there.
    private const double SeriesLimit = 2.5;

    private static readonly double TwoOverSqrtPi = 2.0 / Math.Sqrt(Math.PI);
    private static readonly double OneOverSqrtPi = 1.0 / Math.Sqrt(Math.PI);

    /// <summary>
    /// The z with Φ(z) = <paramref name="p"/> (AS 241). Returns negative infinity for 0 and positive infinity for 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside [0, 1] or NaN.</exception>
    public static double Quantile(double p)
    {
        if (!(p >= 0.0 && p <= 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "A probability lies in [0, 1].");
        }

        if (p == 0.0)
        {
            return double.NegativeInfinity;
        }

        if (p == 1.0)
        {
            return double.PositiveInfinity;
        }

        var q = p - 0.5;
        if (Math.Abs(q) <= 0.425)
        {
            var r = 0.180625 - (q * q);
            return q * Polynomial.Evaluate(CentralNumerator, r) / Polynomial.Evaluate(CentralDenominator, r);
        }

        var t = Math.Sqrt(-Math.Log(q < 0.0 ? p : 1.0 - p));
        double z;
        if (t <= 5.0)
        {
            t -= 1.6;
            z = Polynomial.Evaluate(NearNumerator, t) / Polynomial.Evaluate(NearDenominator, t);
        }
        else
        {
            t -= 5.0;
            z = Polynomial.Evaluate(FarNumerator, t) / Polynomial.Evaluate(FarDenominator, t);
        }

        return q < 0.0 ? -z : z;
    }

    /// <summary>The upper tail 1 − Φ(z), accurate in relative terms far into the tail (it underflows to 0 near z = 38.5).</summary>
    public static double UpperTail(double z)
    {
        if (double.IsNaN(z))
        {
            return double.NaN;
        }

        return 0.5 * Erfc(z / Math.Sqrt(2.0));
    }

    /// <summary>Φ(z), the standard normal CDF.</summary>
    public static double Cdf(double z) => UpperTail(-z);

    /// <summary>
    /// The complementary error function erfc(x) = 1 − erf(x). For |x| below 2.5 it is 1 − erf(x) with erf from the series
    /// erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), whose terms are all positive; from 2.5 on it is the
    /// continued fraction erfc(x) = (e^(−x²)/√π)·1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated by the modified
    /// Lentz method. Negative arguments use erfc(−x) = 2 − erfc(x).
    /// </summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        if (x < 0.0)
        {
            return 2.0 - Erfc(-x);
        }

        if (x < SeriesLimit)
        {
            return 1.0 - ErfSeries(x);
        }

        return Math.Exp(-x * x) * OneOverSqrtPi / ContinuedFraction(x);
    }

    private static double ErfSeries(double x)
    {
        var twoXSquared = 2.0 * x * x;
        var term = x;
        var sum = x;
        for (var n = 1; n < 200; n++)
        {
            term *= twoXSquared / ((2 * n) + 1);
            sum += term;
            if (term <= sum * 1e-17)
            {
                break;
            }
        }

        return TwoOverSqrtPi * Math.Exp(-x * x) * sum;
    }

    // The value of x + a1/(x + a2/(x + a3/(x + …))) with a_k = k/2 (modified Lentz).
    private static double ContinuedFraction(double x)
    {
        const double Tiny = 1e-300;
        var f = x;
        var c = x;
        var d = 0.0;
        for (var k = 1; k < 500; k++)
        {
            var a = 0.5 * k;
            d = x + (a * d);
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = x + (a / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1.0 / d;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1.0) < 1e-16)
            {
                break;
            }
        }

        return f;
    }
}
