using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

public class NormalDistributionTests
{
    // Reference values: scipy.special.erfc, ndtr and ndtri (SciPy 1.10.1, double precision).
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.1, 0.8875370839817152)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.0, 0.15729920705028516)]
    [InlineData(2.4, 0.0006885138966450789)]
    [InlineData(2.6, 0.000236034416529349)]
    [InlineData(5.0, 1.5374597944280347e-12)]
    [InlineData(10.0, 2.0884875837625446e-45)]
    [InlineData(26.0, 5.663192408856145e-296)]
    public void Erfc_ScipyPoints_RelativeErrorBelow1e12(double x, double expected)
    {
        AssertRelative(expected, NormalDistribution.Erfc(x), 1e-12);
    }

    [Fact]
    public void Erfc_NegativeArgument_IsTwoMinusErfc()
    {
        Assert.Equal(2.0 - 0.15729920705028516, NormalDistribution.Erfc(-1.0), 1e-15);
    }

    [Theory]
    [InlineData(-10.0, 7.61985302416047e-24)]
    [InlineData(-3.0, 0.0013498980316300933)]
    [InlineData(-1.0, 0.15865525393145707)]
    [InlineData(0.0, 0.5)]
    [InlineData(0.3, 0.6179114221889526)]
    [InlineData(1.96, 0.9750021048517795)]
    [InlineData(8.0, 0.9999999999999993)]
    public void Cdf_ScipyPoints_RelativeErrorBelow1e12(double z, double expected)
    {
        AssertRelative(expected, NormalDistribution.Cdf(z), 1e-12);
    }

    [Theory]
    [InlineData(1e-300, -37.0470962993612)]
    [InlineData(1e-20, -9.262340089798409)]
    [InlineData(0.001, -3.090232306167813)]
    [InlineData(0.025, -1.9599639845400545)]
    [InlineData(0.3, -0.5244005127080409)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.7, 0.5244005127080407)]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.999999, 4.753424308817087)]
    public void Quantile_ScipyPoints_RelativeErrorBelow1e14(double p, double expected)
    {
        var actual = NormalDistribution.Quantile(p);

        if (expected == 0.0)
        {
            Assert.Equal(0.0, actual, 1e-16);
        }
        else
        {
            AssertRelative(expected, actual, 1e-14);
        }
    }

    [Fact]
    public void Quantile_ThenCdf_ReturnsProbability()
    {
        for (var p = 1e-12; p < 1.0; p = p < 0.5 ? p * 3.0 : 1.0 - ((1.0 - p) / 3.0))
        {
            AssertRelative(p, NormalDistribution.Cdf(NormalDistribution.Quantile(p)), 1e-12);
            if (1.0 - p < 1e-12)
            {
                break;
            }
        }
    }

    [Fact]
    public void Quantile_Bounds_AreInfinite()
    {
        Assert.Equal(double.NegativeInfinity, NormalDistribution.Quantile(0.0));
        Assert.Equal(double.PositiveInfinity, NormalDistribution.Quantile(1.0));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void Quantile_OutsideUnitInterval_Throws(double p)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NormalDistribution.Quantile(p));
    }

    private static void AssertRelative(double expected, double actual, double tolerance) =>
        Assert.True(
            Math.Abs(actual - expected) <= tolerance * Math.Abs(expected),
            $"{actual:R} differs from {expected:R} by more than {tolerance} relative");
}
