using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Eval.Membership;

namespace ServerlessServe.Eval.Tests.Membership;

public sealed class ReleasedConfidenceTests
{
    // Two rows of three classes.
    private static readonly float[] Scores = [0.1234f, 0.6543f, 0.2223f, 0.9f, 0.06f, 0.04f];

    [Fact]
    public void Scores_Rounded_TheRoundedScoreOfEachClass()
    {
        var released = Release(new OutputRule { Mode = OutputMode.Scores, Round = 2 });

        Assert.False(released.LabelOnly);
        Assert.Equal(0.65, released.Of(0, 1), 6);
        Assert.Equal(0.12, released.Of(0, 0), 6);
        Assert.Equal(0.04, released.Of(1, 2), 6);
        Assert.Equal(0.9, released.Top(1)!.Value, 6);
    }

    [Fact]
    public void TopK_ClassLeftOut_ZeroAndTheOthersTheirScore()
    {
        var released = Release(new OutputRule { Mode = OutputMode.TopK, K = 2, Round = 3 });

        Assert.Equal(0.654, released.Of(0, 1), 6);
        Assert.Equal(0.222, released.Of(0, 2), 6);
        Assert.Equal(0.0, released.Of(0, 0));
        Assert.Equal(0.9, released.Of(1, 0), 6);
        Assert.Equal(0.0, released.Of(1, 2));
        Assert.Equal(0.654, released.Top(0)!.Value, 6);
    }

    [Fact]
    public void Label_OneForTheReleasedLabelAndNoTopScore()
    {
        var released = Release(new OutputRule { Mode = OutputMode.Label });

        Assert.True(released.LabelOnly);
        Assert.Equal(1.0, released.Of(0, 1));
        Assert.Equal(0.0, released.Of(0, 0));
        Assert.Equal(1.0, released.Of(1, 0));
        Assert.Null(released.Top(0));
    }

    private static ReleasedConfidence Release(OutputRule rule)
    {
        var policy = new ModelPolicy { Outputs = new Dictionary<string, OutputRule> { ["scores"] = rule } };
        var outputs = new ResponseRedactor().Apply([new Tensor("scores", TensorDataType.Fp32, [2, 3], Scores.ToArray())], policy).Outputs;
        return new ReleasedConfidence(outputs, "scores");
    }
}
