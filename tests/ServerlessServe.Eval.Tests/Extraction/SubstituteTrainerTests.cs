using ServerlessServe.Eval.Extraction;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Extraction;

public sealed class SubstituteTrainerTests
{
    [Fact]
    public void Train_OnLabelledTrainingDigits_ClassifiesMostHeldOutDigits()
    {
        var split = DigitsData.Load();
        var rows = Enumerable.Range(0, 400).Select(split.Train.Row).ToArray();
        var labels = split.Train.Labels.Take(400).ToArray();

        var substitute = SubstituteTrainer.Train(rows, labels, seed: 3);

        var correct = Enumerable.Range(0, split.Test.Count).Count(i => substitute.Predict(split.Test.Row(i)) == split.Test.Labels[i]);
        Assert.True(correct > 0.85 * split.Test.Count, $"{correct}/{split.Test.Count}");
    }

    [Fact]
    public void Train_SameSeed_SameWeights()
    {
        var split = DigitsData.Load();
        var rows = Enumerable.Range(0, 50).Select(split.Train.Row).ToArray();
        var labels = split.Train.Labels.Take(50).ToArray();

        var a = SubstituteTrainer.Train(rows, labels, seed: 9, epochs: 5);
        var b = SubstituteTrainer.Train(rows, labels, seed: 9, epochs: 5);

        Assert.Equal(a.W1.ToArray(), b.W1.ToArray());
        Assert.Equal(a.W2.ToArray(), b.W2.ToArray());
    }

    [Fact]
    public void Train_RowsAndLabelsDisagree_Throws()
    {
        Assert.Throws<ArgumentException>(() => SubstituteTrainer.Train([new float[DigitsData.PixelCount]], [1, 2], seed: 1));
    }
}
