using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

public class ShapiroWilkTests
{
    // Two references for every sample, each computed once and written here:
    // - R 4.2.2 (Debian r-base-core), shapiro.test(x)$statistic and $p.value: R's port of AS R94 runs in double precision
    //   like this code, so it is checked tightly (1e-9 on W, 1e-7 relative on p).
    // - SciPy 1.10.1 (Debian python3-scipy), scipy.stats.shapiro(x): the same algorithm in single precision (its Fortran
    //   converts the data and works in REAL), checked to 1e-6 on W and 1e-4 relative on p. Where W is within 3e-3 of 1
    //   and n >= 500, single precision leaves 1 - W with only three or four good digits (ln(1 - W) drives p), so those
    //   rows carry a wider SciPy tolerance, stated in the row; R agrees with this code there to 1e-12.
    // The samples of the last rows come from ReferenceSamples (a generator Python reproduces exactly); the written-out
    // values were fed to both as written, the generated ones printed with repr() and read back by R's scan().
    private const double RTolerance = 1e-9;
    private const double RRelativeTolerance = 1e-7;
    private const double ScipyTolerance = 1e-6;
    private const double ScipyRelativeTolerance = 1e-4;

    [Fact]
    public void Test_ShapiroWilk1965WeightsOfElevenMen_WNear079()
    {
        double[] weights = [148, 154, 158, 160, 161, 162, 166, 170, 182, 195, 236];

        var result = ShapiroWilk.Test(weights);

        // Shapiro & Wilk (1965) report W = 0.79 with their exact coefficients.
        Assert.Equal(0.79, result.W, 0.005);
        AssertMatchesR(0.78881469483538735, 0.0067038140565029254, result, "men");
        AssertMatchesScipy(0.7888147830963135, 0.006703833118081093, ScipyTolerance, ScipyRelativeTolerance, result, "men");
    }

    public static TheoryData<string, double[], double, double, double, double> WrittenOutSamples => new()
    {
        { "n=3", [2.1, 3.7, 3.9], 0.8321917808219178, 0.19391752148144781, 0.8321918845176697, 0.19391676783561707 },
        { "n=4", [1.0, 2.0, 2.5, 9.0], 0.7848998868379492, 0.07778326352348626, 0.7849000096321106, 0.07778340578079224 },
        { "n=5", [4.2, 1.3, 5.9, 2.2, 3.0], 0.97389098164333021, 0.89958839205672536, 0.9738909602165222, 0.8995882272720337 },
        {
            "n=12",
            [12.5, 9.8, 11.1, 10.4, 13.9, 10.0, 11.7, 10.9, 9.5, 12.2, 15.8, 10.6],
            0.89600077380029286, 0.14083997961420136, 0.8960006237030029, 0.14083930850028992
        },
        // numpy.random.default_rng(7).normal(50, 10, 20), rounded to 3 decimals.
        {
            "n=20 normal",
            [
                50.012, 52.987, 47.259, 41.094, 45.453, 40.084, 50.601, 63.402, 45.078, 43.795,
                54.898, 53.569, 51.054, 40.695, 49.707, 56.953, 36.558, 45.424, 30.988, 37.105,
            ],
            0.99212416956652782, 0.99964437197117739, 0.9921241402626038, 0.9996443390846252
        },
        // The same generator, next: .exponential(2.0, 50), rounded to 3 decimals.
        {
            "n=50 exponential",
            [
                0.395, 0.697, 1.767, 0.15, 0.12, 2.447, 1.546, 4.392, 0.95, 1.043, 2.362, 1.053, 0.044, 0.587, 2.029,
                1.269, 2.793, 0.017, 1.808, 0.501, 0.711, 6.15, 2.809, 7.591, 3.496, 4.486, 0.29, 0.605, 0.478, 2.296,
                2.447, 0.254, 0.768, 2.136, 0.137, 0.196, 1.743, 3.748, 5.393, 1.412, 2.612, 1.527, 1.874, 0.29, 4.99,
                1.769, 1.75, 0.053, 2.17, 2.124,
            ],
            0.86711580032558278, 4.6524629501918336e-05, 0.8671157360076904, 4.6524310164386407e-05
        },
    };

    [Theory]
    [MemberData(nameof(WrittenOutSamples))]
    public void Test_WrittenOutSample_MatchesRAndScipy(string name, double[] sample, double rW, double rP, double scipyW, double scipyP)
    {
        var result = ShapiroWilk.Test(sample);

        AssertMatchesR(rW, rP, result, name);
        AssertMatchesScipy(scipyW, scipyP, ScipyTolerance, ScipyRelativeTolerance, result, name);
    }

    [Theory]
    [InlineData("exponential", 12, 9UL, 0.75718193478036289, 0.003179266993998947, 0.7571818828582764, 0.0031792635563760996, 1e-4)]
    [InlineData("uniform", 20, 8UL, 0.93578904516998163, 0.19941666159415355, 0.9357889294624329, 0.1994156688451767, 1e-4)]
    [InlineData("normal-like", 100, 1UL, 0.99017944769496236, 0.67910607061611905, 0.9901792407035828, 0.679091215133667, 1e-4)]
    [InlineData("exponential", 100, 2UL, 0.81108312444748432, 5.5010520342913203e-10, 0.8110834360122681, 5.501201161273173e-10, 1e-4)]
    [InlineData("uniform", 500, 3UL, 0.95929904396622778, 1.5841537644742833e-10, 0.9592996835708618, 1.5845437462136402e-10, 5e-4)]
    [InlineData("normal-like", 500, 4UL, 0.9970368226280325, 0.50308425960452607, 0.9970377683639526, 0.5033806562423706, 1e-3)]
    [InlineData("exponential", 500, 5UL, 0.8487104589923351, 1.7530654991977505e-21, 0.8487110137939453, 1.7531883056734016e-21, 1e-4)]
    [InlineData("normal-like", 5000, 6UL, 0.99969831758702432, 0.70159380252153736, 0.9997003674507141, 0.7077326774597168, 1e-2)]
    public void Test_GeneratedSample_MatchesRAndScipy(
        string kind, int n, ulong seed, double rW, double rP, double scipyW, double scipyP, double scipyRelativeTolerance)
    {
        var sample = kind switch
        {
            "exponential" => ReferenceSamples.Exponential(n, seed),
            "uniform" => ReferenceSamples.Uniform(n, seed),
            _ => ReferenceSamples.NormalLike(n, seed),
        };

        var result = ShapiroWilk.Test(sample);

        AssertMatchesR(rW, rP, result, kind);
        AssertMatchesScipy(scipyW, scipyP, n >= 5000 ? 5e-6 : ScipyTolerance, scipyRelativeTolerance, result, kind);
    }

    [Fact]
    public void ReferenceSamples_FirstValues_MatchPythonGenerator()
    {
        // First values printed by the Python generator for the same kinds and seeds.
        Assert.Equal(0.1988428328925691, ReferenceSamples.NormalLike(1, 1)[0]);
        Assert.Equal(1.4619221387130004, ReferenceSamples.Exponential(1, 2)[0]);
        Assert.Equal(0.11321020286155192, ReferenceSamples.Uniform(1, 3)[0]);
    }

    [Fact]
    public void Test_EquallySpacedThree_WIsOneAndPIsOne()
    {
        var result = ShapiroWilk.Test([1.0, 2.0, 3.0]);

        Assert.Equal(1.0, result.W, 1e-15);
        Assert.Equal(1.0, result.PValue, 1e-12);
    }

    [Fact]
    public void Test_OrderAndAffineChange_DoNotChangeResult()
    {
        var sample = ReferenceSamples.Exponential(40, 11);
        var transformed = sample.Select(static x => (-1e6 * x) + 3e9).Reverse().ToArray();

        var original = ShapiroWilk.Test(sample);
        var moved = ShapiroWilk.Test(transformed);

        // A sign flip mirrors the sample: W is unchanged by x -> -x (the coefficients are antisymmetric).
        Assert.Equal(original.W, moved.W, 1e-9);
        Assert.Equal(original.PValue, moved.PValue, 1e-9);
    }

    [Fact]
    public void Test_TinyAndHugeMagnitudes_StillComputed()
    {
        var sample = ReferenceSamples.NormalLike(30, 12);

        var tiny = ShapiroWilk.Test(sample.Select(static x => x * 1e-300).ToArray());
        var huge = ShapiroWilk.Test(sample.Select(static x => x * 1e300).ToArray());
        var plain = ShapiroWilk.Test(sample);

        Assert.Equal(plain.W, tiny.W, 1e-12);
        Assert.Equal(plain.W, huge.W, 1e-12);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(5000)]
    public void Coefficients_AnySize_UnitNormAndDecreasing(int n)
    {
        var a = ShapiroWilk.Coefficients(n);

        Assert.Equal(n / 2, a.Length);
        Assert.Equal(1.0, 2.0 * a.Sum(static x => x * x), 1e-12);
        for (var i = 1; i < a.Length; i++)
        {
            Assert.True(a[i] < a[i - 1], $"a[{i}] = {a[i]} is not below a[{i - 1}] = {a[i - 1]}");
        }
    }

    [Fact]
    public void Coefficients_ElevenValues_CloseToShapiroWilkTable()
    {
        // Shapiro & Wilk (1965), Table 5, n = 11: exact coefficients 0.5601, 0.3315, 0.2260, 0.1429, 0.0695.
        var a = ShapiroWilk.Coefficients(11);

        Assert.Equal([0.5601, 0.3315, 0.2260, 0.1429, 0.0695], a, new ToleranceComparer(0.002));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(5001)]
    public void Test_SizeOutOfRange_Throws(int n)
    {
        var sample = Enumerable.Range(0, n).Select(static i => (double)(i * i)).ToArray();

        Assert.Throws<ArgumentOutOfRangeException>(() => ShapiroWilk.Test(sample));
    }

    [Fact]
    public void Test_AllEqual_ThrowsArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => ShapiroWilk.Test([4.0, 4.0, 4.0, 4.0]));

        Assert.Contains("equal", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Test_NonFiniteValue_ThrowsArgumentException(double bad)
    {
        Assert.Throws<ArgumentException>(() => ShapiroWilk.Test([1.0, 2.0, bad, 3.0]));
    }

    [Fact]
    public void Statistic_NoSpread_ReturnsOne()
    {
        var (w, oneMinusW) = ShapiroWilk.Statistic([2.0, 2.0, 2.0, 2.0], ShapiroWilk.Coefficients(4));

        Assert.Equal(1.0, w);
        Assert.Equal(0.0, oneMinusW);
    }

    private static void AssertMatchesR(double expectedW, double expectedP, ShapiroWilkResult actual, string sample)
    {
        AssertClose(expectedW, actual.W, RTolerance, $"{sample}: W (R)");
        AssertClose(expectedP, actual.PValue, RRelativeTolerance * expectedP, $"{sample}: p (R)");
    }

    private static void AssertMatchesScipy(
        double expectedW, double expectedP, double tolerance, double relativeTolerance, ShapiroWilkResult actual, string sample)
    {
        AssertClose(expectedW, actual.W, tolerance, $"{sample}: W (SciPy)");
        AssertClose(expectedP, actual.PValue, relativeTolerance * expectedP, $"{sample}: p (SciPy)");
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance, $"{what} = {actual:R}, expected {expected:R} within {tolerance:R}");

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
