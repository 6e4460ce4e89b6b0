namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// The Shapiro–Wilk test of normality for 3 to 5,000 values, as approximated by Royston (1992, "Approximating the
/// Shapiro–Wilk W-test for non-normality", Statistics and Computing 2; 1995, algorithm AS R94).
/// </summary>
/// <remarks>
/// <para>
/// Coefficients: with mᵢ = Φ⁻¹((i − 3/8)/(n + 1/4)) the approximate expected normal order statistics and u = 1/√n, the
/// coefficient of the largest value is aₙ = mₙ/‖m‖ + 0.221157u − 0.147981u² − 2.071190u³ + 4.434685u⁴ − 2.706056u⁵ and,
/// for n > 5, that of the second largest is aₙ₋₁ = mₙ₋₁/‖m‖ + 0.042981u − 0.293762u² − 1.752461u³ + 5.682633u⁴ −
/// 3.582633u⁵. The others are mᵢ/√φ, φ chosen so that Σaᵢ² = 1, and aᵢ = −aₙ₊₁₋ᵢ. For n = 3 the coefficients are exact
/// (±√½).
/// </para>
/// <para>
/// W = (Σ aᵢx₍ᵢ₎)² / Σ(xᵢ − x̄)². The p-value is exact for n = 3: (6/π)(asin √W − asin √¾). For 4 ≤ n ≤ 11,
/// −ln(γ − ln(1 − W)) with γ = −2.273 + 0.459n is taken as normal with mean 0.5440 − 0.39978n + 0.025054n² −
/// 0.0006714n³ and standard deviation exp(1.3822 − 0.77857n + 0.062767n² − 0.0020322n³). For n ≥ 12, ln(1 − W) is
/// taken as normal with mean −1.5861 − 0.31082L − 0.083751L² + 0.0038915L³ and standard deviation
/// exp(−0.4803 − 0.082676L + 0.0030302L²), L = ln n. The p-value is the upper normal tail; small W, small p.
/// </para>
/// <para>
/// Everything runs in double precision. The statistic is scale and location invariant, so values are multiplied by a
/// power of two close to the reciprocal of their range first (exact, and no overflow or underflow of the sum of squares
/// for extreme magnitudes).
/// </para>
/// </remarks>
internal static class ShapiroWilk
{
    /// <summary>Smallest sample the test accepts.</summary>
    public const int MinSampleSize = 3;

    /// <summary>Largest sample the test accepts (the range over which Royston fitted the p-value approximation).</summary>
    public const int MaxSampleSize = 5000;

    // Corrections to the two extreme coefficients, polynomials in u = 1/sqrt(n), lowest degree first.
    private static readonly double[] LargestCorrection = [0.0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056];
    private static readonly double[] SecondCorrection = [0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633];

    // 4 <= n <= 11: polynomials in n.
    private static readonly double[] SmallGamma = [-2.273, 0.459];
    private static readonly double[] SmallMean = [0.5440, -0.39978, 0.025054, -6.714e-4];
    private static readonly double[] SmallLogSd = [1.3822, -0.77857, 0.062767, -0.0020322];

    // n >= 12: polynomials in ln(n).
    private static readonly double[] LargeMean = [-1.5861, -0.31082, -0.083751, 0.0038915];
    private static readonly double[] LargeLogSd = [-0.4803, -0.082676, 0.0030302];

    /// <summary>Tests <paramref name="sample"/> (any order) for normality.</summary>
    /// <exception cref="ArgumentException">
    /// Fewer than <see cref="MinSampleSize"/> or more than <see cref="MaxSampleSize"/> values, a NaN or infinite value,
    /// or all values equal (W is undefined for a sample without spread).
    /// </exception>
    public static ShapiroWilkResult Test(ReadOnlySpan<double> sample)
    {
        CheckSize(sample.Length, nameof(sample));
        foreach (var value in sample)
        {
            if (!double.IsFinite(value))
            {
                throw new ArgumentException("The sample holds a NaN or infinite value.", nameof(sample));
            }
        }

        var sorted = sample.ToArray();
        Array.Sort(sorted);
        if (sorted[0] == sorted[^1])
        {
            throw new ArgumentException("All values of the sample are equal; W is undefined without spread.", nameof(sample));
        }

        var (w, oneMinusW) = Statistic(sorted, Coefficients(sorted.Length));
        return new ShapiroWilkResult(w, PValue(w, oneMinusW, sorted.Length));
    }

    /// <summary>
    /// The coefficients a₍ₙ₎, a₍ₙ₋₁₎, …, a₍ₙ₋⌊n/2⌋₊₁₎ of the ⌊n/2⌋ largest order statistics, largest first and positive;
    /// the smallest order statistics take the same values negated, and the middle one of an odd sample takes 0.
    /// They depend only on n: compute once per size and reuse.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is outside 3 to 5,000.</exception>
    public static double[] Coefficients(int n)
    {
        CheckSize(n, nameof(n));
        var half = n / 2;
        var a = new double[half];
        if (n == 3)
        {
            a[0] = Math.Sqrt(0.5);
            return a;
        }

        var m = new double[half];
        var sumSquares = 0.0;
        for (var i = 0; i < half; i++)
        {
            m[i] = -NormalDistribution.Quantile((i + 1 - 0.375) / (n + 0.25));
            sumSquares += m[i] * m[i];
        }

        sumSquares *= 2.0;
        var norm = Math.Sqrt(sumSquares);
        var u = 1.0 / Math.Sqrt(n);
        a[0] = (m[0] / norm) + Polynomial.Evaluate(LargestCorrection, u);
        int rest;
        double phi;
        if (n > 5)
        {
            a[1] = (m[1] / norm) + Polynomial.Evaluate(SecondCorrection, u);
            phi = (sumSquares - (2.0 * m[0] * m[0]) - (2.0 * m[1] * m[1])) / (1.0 - (2.0 * a[0] * a[0]) - (2.0 * a[1] * a[1]));
            rest = 2;
        }
        else
        {
            phi = (sumSquares - (2.0 * m[0] * m[0])) / (1.0 - (2.0 * a[0] * a[0]));
            rest = 1;
        }

        var root = Math.Sqrt(phi);
        for (var i = rest; i < half; i++)
        {
            a[i] = m[i] / root;
        }

        return a;
    }

    /// <summary>
    /// W and 1 − W (computed without cancellation) for an ascending, finite sample of at least 3 values with
    /// <paramref name="coefficients"/> from <see cref="Coefficients"/> for its size. Returns (1, 0) for a sample
    /// without spread; callers that must refuse that case check it first.
    /// </summary>
    public static (double W, double OneMinusW) Statistic(ReadOnlySpan<double> sorted, ReadOnlySpan<double> coefficients)
    {
        var n = sorted.Length;
        if (coefficients.Length != n / 2 || n < MinSampleSize)
        {
            throw new ArgumentException("The coefficients do not match the sample size.", nameof(coefficients));
        }

        var range = sorted[n - 1] - sorted[0];
        if (!double.IsFinite(range))
        {
            range = Math.Max(Math.Abs(sorted[0]), Math.Abs(sorted[n - 1]));
        }

        if (range == 0.0)
        {
            return (1.0, 0.0);
        }

        // Multiplying by a power of two near 1/range is exact (no rounding) and keeps the sums below from overflowing or
        // underflowing whatever the magnitude of the values.
        var scale = Math.ScaleB(1.0, -Math.Clamp(Math.ILogB(range), -1022, 1023));
        var mean = 0.0;
        foreach (var value in sorted)
        {
            mean += value * scale;
        }

        mean /= n;
        var sumSquares = 0.0;
        foreach (var value in sorted)
        {
            var deviation = (value * scale) - mean;
            sumSquares += deviation * deviation;
        }

        var numerator = 0.0;
        var coefficientSquares = 0.0;
        for (var i = 0; i < coefficients.Length; i++)
        {
            numerator += coefficients[i] * ((sorted[n - 1 - i] * scale) - (sorted[i] * scale));
            coefficientSquares += coefficients[i] * coefficients[i];
        }

        coefficientSquares *= 2.0;

        // 1 - W = (sqrt(A·S) - b)(sqrt(A·S) + b)/(A·S), with A = Σa², S = Σ(x - x̄)², b = Σ a·x: by Cauchy–Schwarz
        // b <= sqrt(A·S), so W stays in [0, 1] whatever the rounding.
        var product = coefficientSquares * sumSquares;
        var root = Math.Sqrt(product);
        var oneMinusW = Math.Max(0.0, (root - numerator) * (root + numerator) / product);
        return (Math.Min(1.0, numerator * numerator / product), oneMinusW);
    }

    /// <summary>The p-value of <paramref name="w"/> for a sample of <paramref name="n"/> values (Royston's approximation).</summary>
    /// <param name="w">The statistic.</param>
    /// <param name="oneMinusW">1 − W as returned by <see cref="Statistic"/> (more accurate than subtracting when W is near 1).</param>
    /// <param name="n">The sample size, 3 to 5,000.</param>
    /// <returns>
    /// P(W' ≤ W) under normality, in [0, 1]. For 4 ≤ n ≤ 11 a W so small that γ ≤ ln(1 − W) is outside the
    /// approximation's domain (far below any W seen in practice) and gives 0.
    /// </returns>
    public static double PValue(double w, double oneMinusW, int n)
    {
        CheckSize(n, nameof(n));
        if (n == 3)
        {
            var exact = 6.0 / Math.PI * (Math.Asin(Math.Sqrt(w)) - (Math.PI / 3.0));
            return Math.Clamp(exact, 0.0, 1.0);
        }

        if (oneMinusW <= 0.0)
        {
            return 1.0;
        }

        var y = Math.Log(oneMinusW);
        double mean;
        double sd;
        if (n <= 11)
        {
            var gamma = Polynomial.Evaluate(SmallGamma, n);
            if (y >= gamma)
            {
                return 0.0;
            }

            y = -Math.Log(gamma - y);
            mean = Polynomial.Evaluate(SmallMean, n);
            sd = Math.Exp(Polynomial.Evaluate(SmallLogSd, n));
        }
        else
        {
            var logN = Math.Log(n);
            mean = Polynomial.Evaluate(LargeMean, logN);
            sd = Math.Exp(Polynomial.Evaluate(LargeLogSd, logN));
        }

        return NormalDistribution.UpperTail((y - mean) / sd);
    }

    private static void CheckSize(int n, string parameterName)
    {
        if (n is < MinSampleSize or > MaxSampleSize)
        {
            throw new ArgumentOutOfRangeException(parameterName, n, "The Shapiro–Wilk test here takes 3 to 5,000 values.");
        }
    }
}
