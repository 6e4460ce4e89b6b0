using System.Text;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Tests.Redaction;

public class OutputHardenerTests
{
    [Fact]
    public void Round_Fp32_RoundsHalfAwayFromZeroAndKeepsShape()
    {
        var scores = new Tensor("p", TensorDataType.Fp32, [1, 4], new[] { 0.123456f, 0.125f, -0.125f, float.NaN });

        var rounded = OutputHardener.Round(scores, 2);

        Assert.Equal(new[] { 0.12f, 0.13f, -0.13f, float.NaN }, rounded.As<float>());
        Assert.Equal(new long[] { 1, 4 }, rounded.Shape);
        Assert.Equal(0.125f, scores.As<float>()[1]);
    }

    /// <summary>A small negative value (or a -0) rounded to zero is +0: the sign would tell which side of zero it fell on.</summary>
    [Fact]
    public void Round_SmallNegativeAndNegativeZero_PositiveZero()
    {
        var fp32 = OutputHardener.Round(new Tensor("p", TensorDataType.Fp32, [3], new[] { -0.0004f, -0f, -0.006f }), 2).As<float>();
        var fp64 = OutputHardener.Round(new Tensor("p", TensorDataType.Fp64, [2], new[] { -0.0004, -0.0 }), 3).As<double>();

        Assert.False(float.IsNegative(fp32[0]));
        Assert.False(float.IsNegative(fp32[1]));
        Assert.Equal(-0.01f, fp32[2]);
        Assert.All(fp64, v => Assert.False(double.IsNegative(v)));
    }

    [Fact]
    public void TopK_TiesAndNaN_LowerIndexFirstNaNLast()
    {
        var scores = new Tensor("p", TensorDataType.Fp64, [3, 4], new[]
        {
            0.1, 0.4, 0.4, 0.1,
            double.NaN, 0.2, 0.9, 0.2,
            double.NaN, double.NaN, 0.1, 0.0,
        });

        var (top, classes) = OutputHardener.TopK(scores, 3, null, null);

        Assert.Equal(new long[] { 3, 3 }, top.Shape);
        Assert.Equal("p_classes", classes.Name);
        Assert.Equal(TensorDataType.Int64, classes.DataType);
        Assert.Equal(new long[] { 1, 2, 0, 2, 1, 3, 2, 3, 0 }, classes.As<long>());
        Assert.Equal(new[] { 0.4, 0.4, 0.1, 0.9, 0.2, 0.2, 0.1, 0.0, double.NaN }, top.As<double>());
    }

    [Fact]
    public void TopK_LabelsAndRounding_BytesLabelsRoundedScores()
    {
        var scores = new Tensor("p", TensorDataType.Fp32, [1, 3], new[] { 0.2345f, 0.6543f, 0.1112f });

        var (top, classes) = OutputHardener.TopK(scores, 2, 2, ["cat", "dog", "eel"]);

        Assert.Equal(new[] { 0.65f, 0.23f }, top.As<float>());
        Assert.Equal(TensorDataType.Bytes, classes.DataType);
        Assert.Equal(new[] { "dog", "cat" }, classes.As<byte[]>().Select(static b => Encoding.UTF8.GetString(b)));
        Assert.Equal(new long[] { 1, 2 }, classes.Shape);
    }

    [Fact]
    public void TopK_OneDimensionalAndKAboveClasses_CappedAndRankKept()
    {
        var scores = new Tensor("p", TensorDataType.Fp16, [2], new[] { (Half)0.25f, (Half)0.75f });

        var (top, classes) = OutputHardener.TopK(scores, 5, null, null);

        Assert.Equal(new long[] { 2 }, top.Shape);
        Assert.Equal(new[] { (Half)0.75f, (Half)0.25f }, top.As<Half>());
        Assert.Equal(new long[] { 1, 0 }, classes.As<long>());
    }

    [Fact]
    public void Label_WithAndWithoutLabels_BestClassPerRow()
    {
        var scores = new Tensor("p", TensorDataType.Fp32, [2, 3], new[] { 0.1f, 0.7f, 0.7f, float.NaN, 0.2f, 0.3f });

        var indices = OutputHardener.Label(scores, null);
        var labels = OutputHardener.Label(scores, ["a", "b", "c"]);

        Assert.Equal(new long[] { 1, 2 }, indices.As<long>());
        Assert.Equal(new long[] { 2 }, indices.Shape);
        Assert.Equal(new[] { "b", "c" }, labels.As<byte[]>().Select(static b => Encoding.UTF8.GetString(b)));
    }

    [Fact]
    public void TopK_TooFewLabels_Throws()
    {
        var scores = new Tensor("p", TensorDataType.Fp32, [1, 3], new[] { 0.1f, 0.2f, 0.7f });

        Assert.Throws<InvalidOperationException>(() => OutputHardener.TopK(scores, 1, null, ["a"]));
    }

    [Fact]
    public void Label_WrongRank_Throws()
    {
        var scores = new Tensor("p", TensorDataType.Fp32, [1, 1, 2], new[] { 0.1f, 0.2f });

        Assert.Throws<InvalidOperationException>(() => OutputHardener.Label(scores, null));
    }
}
