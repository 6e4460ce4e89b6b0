namespace ServerlessServe.Core.Tests.Defenses.Extraction;

/// <summary>
/// Samples for the Shapiro–Wilk reference values that are too long to write out: a 64-bit linear congruential generator
/// (Knuth's MMIX constants) that Python reproduces bit for bit, so the reference values computed there apply here.
/// </summary>
/// <remarks>
/// The Python side, run once with SciPy 1.10.1 (Debian python3-scipy):
/// <code>
/// s = seed % 2**64
/// def u():  # next uniform in [0, 1)
///     global s; s = (s * 6364136223846793005 + 1442695040888963407) % 2**64; return (s >> 11) * 2.0**-53
/// exponential: -math.log(1.0 - u());  uniform: u();  normal-like: t = 0.0; 12 times t += u(); t - 6.0
/// scipy.stats.shapiro(sample)
/// </code>
/// </remarks>
internal static class ReferenceSamples
{
    public static double[] Exponential(int n, ulong seed) => Generate(n, seed, static next => -Math.Log(1.0 - next()));

    public static double[] Uniform(int n, ulong seed) => Generate(n, seed, static next => next());

    /// <summary>Irwin–Hall: the sum of 12 uniforms minus 6 (mean 0, variance 1, close to normal).</summary>
    public static double[] NormalLike(int n, ulong seed) => Generate(n, seed, static next =>
    {
        var total = 0.0;
        for (var i = 0; i < 12; i++)
        {
            total += next();
        }

        return total - 6.0;
    });

    private static double[] Generate(int n, ulong seed, Func<Func<double>, double> draw)
    {
        var state = seed;
        double Next()
        {
            state = unchecked((state * 6364136223846793005UL) + 1442695040888963407UL);
            return (state >> 11) * (1.0 / (1UL << 53));
        }

        var sample = new double[n];
        for (var i = 0; i < n; i++)
        {
            sample[i] = draw(Next);
        }

        return sample;
    }
}
