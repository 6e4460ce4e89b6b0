using System.Text;
using ServerlessServe.Core.Defenses;

namespace ServerlessServe.Core.Tests.Defenses;

public sealed class InputProfileTests
{
    // Mean (4, 5); covariance (1/3)·[[20, 16], [16, 20]]; its inverse [[5/12, −1/3], [−1/3, 5/12]].
    private static readonly float[][] Rows = [[1, 2], [3, 4], [5, 8], [7, 6]];

    [Fact]
    public void Build_NoShrinkage_PrecisionIsTheInverseCovarianceByHand()
    {
        var profile = InputProfileBuilder.Build("x", Rows, percentile: 100, shrinkage: 0);

        Assert.Equal([4.0, 5.0], profile.Mean);
        Assert.Equal([1.0, 2.0], profile.Min);
        Assert.Equal([7.0, 8.0], profile.Max);
        Assert.Equal(5.0 / 12, profile.Precision[0], 12);
        Assert.Equal(-1.0 / 3, profile.Precision[1], 12);
        Assert.Equal(-1.0 / 3, profile.Precision[2], 12);
        Assert.Equal(5.0 / 12, profile.Precision[3], 12);
    }

    [Fact]
    public void Distance_PointOffTheDiagonal_MatchesTheHandComputation()
    {
        var screen = new MahalanobisScreen(InputProfileBuilder.Build("x", Rows, percentile: 100, shrinkage: 0));

        // δ = (1, −1): δᵀPδ = 5/12 + 5/12 + 2/3 = 1.5.
        Assert.Equal(Math.Sqrt(1.5), screen.Distance([5, 4]), 5);
        Assert.Equal(0, screen.Distance([4, 5]), 6);

        // Along the correlation the same Euclidean step is nearer than across it.
        Assert.True(screen.Distance([5, 6]) < screen.Distance([5, 4]));
    }

    [Fact]
    public void Build_Percentile100_ThresholdIsTheFarthestTrainingRow()
    {
        var profile = InputProfileBuilder.Build("x", Rows, percentile: 100, shrinkage: 0);
        var screen = new MahalanobisScreen(profile);

        Assert.Equal(Rows.Max(r => screen.Distance(r)), profile.Threshold, 9);
    }

    [Fact]
    public void Build_ConstantFeature_ShrinkageKeepsItInvertible()
    {
        float[][] rows = [[0, 1], [0, 2], [0, 4], [0, 3]];

        var profile = InputProfileBuilder.Build("x", rows, percentile: 99);
        var screen = new MahalanobisScreen(profile);

        Assert.All(profile.Precision, v => Assert.True(double.IsFinite(v)));
        Assert.True(screen.Distance([5, 2.5f]) > screen.Distance([0, 2.5f]) * 10);
        Assert.Throws<ArgumentException>(() => InputProfileBuilder.Build("x", rows, percentile: 99, shrinkage: 0));
    }

    [Fact]
    public void Quantile_IsLinearBetweenNeighbours() =>
        Assert.Equal(2.5, InputProfileBuilder.Quantile([1, 2, 3, 4], 0.5), 12);

    [Fact]
    public void ParseToJson_RoundTripsExactly()
    {
        var profile = InputProfileBuilder.Build("pixels", Rows, percentile: 99.5);

        var parsed = InputProfile.Parse(profile.ToJson());

        Assert.Equal(profile.ToJson(), parsed.ToJson());
        Assert.Equal(profile.Threshold, parsed.Threshold);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("""{"schemaVersion":1,"input":"x","rows":4,"features":1,"mean":[0],"min":[0],"max":[0],"shrinkage":0.1,"precision":[1,2],"percentile":99,"threshold":1}""")]
    [InlineData("""{"schemaVersion":1,"input":"x","rows":4,"features":1,"mean":[0],"min":[0],"max":[0],"shrinkage":0.1,"precision":[1],"percentile":99,"threshold":1,"extra":1}""")]
    public void Parse_MalformedProfile_Refused(string json) =>
        Assert.Throws<FormatException>(() => InputProfile.Parse(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void MaxDistance_TakesTheFarthestRow()
    {
        var screen = new MahalanobisScreen(InputProfileBuilder.Build("x", Rows, percentile: 100, shrinkage: 0));

        Assert.Equal(Math.Sqrt(1.5), screen.MaxDistance([4, 5, 5, 4]), 5);
    }

    [Fact]
    public void Screen_FiniteRowNearFloatMax_FlaggedNotScoredZero()
    {
        // A positive-definite precision and a finite row whose single-precision partial sums overflow to −∞: the sum
        // was clamped to 0, so a row far outside every training row read as the most typical one.
        var profile = new InputProfile
        {
            Input = "x",
            Rows = 10,
            Features = 3,
            Mean = [0, 0, 0],
            Min = [-1, -1, -1],
            Max = [1, 1, 1],
            Shrinkage = 0,
            Precision = [17.759762679172894, 5.785207588492281, -1.8885122057515764, 5.785207588492281, 4.710041228460502, -1.6499961494074857, -1.8885122057515764, -1.6499961494074857, 0.5878762739985206],
            Percentile = 99,
            Threshold = 3,
        };
        var screen = new MahalanobisScreen(profile);
        float[] row = [-1.1333208e37f, 6.954745e37f, 1.5879213e38f];

        var screened = screen.Screen(row, profile.Threshold);

        Assert.Equal(1, screened.FlaggedRows);
        Assert.True(screen.Distance(row) > 1e37, screen.Distance(row).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(double.PositiveInfinity, screen.Distance([float.PositiveInfinity, 0, 0]));
        Assert.True(double.IsNaN(screen.Distance([float.NaN, 0, 0])));
        Assert.Equal(0, screen.Distance([0, 0, 0]), 6);
    }
}
