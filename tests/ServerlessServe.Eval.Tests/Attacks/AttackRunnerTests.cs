using ServerlessServe.Eval.Attacks;
using ServerlessServe.Eval.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Attacks;

public sealed class AttackRunnerTests(OnnxDigitsModel model) : IClassFixture<OnnxDigitsModel>
{
    [Fact]
    public void Successful_Fgsm_OnlyRowsOnnxRuntimeGotRightAndNowGetsWrong()
    {
        var test = DigitsData.Load().Test;

        var successful = AttackRunner.Successful(new Fgsm(DigitsSample.Weights.InputGradient, 0.2), model.Predict, test.Rows(), test.Labels);

        Assert.NotEmpty(successful);
        var clean = model.Predict(successful.Select(r => r.Original).ToArray());
        var adversarial = model.Predict(successful.Select(r => r.Adversarial).ToArray());
        for (var i = 0; i < successful.Count; i++)
        {
            var result = successful[i];
            Assert.True(result.Succeeded);
            Assert.Equal(test.Labels[result.Index], result.Label);
            Assert.Equal(test.Row(result.Index), result.Original);
            Assert.Equal(result.Label, clean[i]);
            Assert.NotEqual(result.Label, adversarial[i]);
            Assert.Equal(adversarial[i], result.AdversarialPrediction);
        }
    }

    [Fact]
    public void Run_EveryRow_OneResultInOrderJudgedByTheClassifierPassedIn()
    {
        var test = DigitsData.Load().Test;
        var rows = test.Rows().Take(60).ToArray();
        var labels = test.Labels.Take(60).ToArray();
        var calls = 0;
        IReadOnlyList<int> Judge(IReadOnlyList<float[]> batch)
        {
            calls++;
            return model.Predict(batch);
        }

        var results = AttackRunner.Run(new Fgsm(DigitsSample.Weights.InputGradient, 0.1), Judge, rows, labels);

        Assert.Equal(2, calls);
        Assert.Equal(Enumerable.Range(0, rows.Length), results.Select(r => r.Index));
        Assert.Equal(model.Predict(rows), results.Select(r => r.CleanPrediction));
        Assert.Equal(model.Predict(results.Select(r => r.Adversarial).ToArray()), results.Select(r => r.AdversarialPrediction));
        Assert.Equal(results.Count(r => r.Succeeded) / (double)results.Count(r => r.CleanCorrect), AttackRunner.SuccessRate(results));
    }

    [Fact]
    public void Run_LabelsAndRowsDisagree_Throws()
    {
        var test = DigitsData.Load().Test;

        Assert.Throws<ArgumentException>(() => AttackRunner.Run(new Fgsm(DigitsSample.Weights.InputGradient, 0.1), model.Predict, test.Rows(), [1, 2]));
    }

    [Fact]
    public void Run_Input_LeftUnchanged()
    {
        var test = DigitsData.Load().Test;
        var rows = test.Rows().Take(10).ToArray();
        var copies = rows.Select(r => r.ToArray()).ToArray();

        _ = AttackRunner.Run(new Bim(DigitsSample.Weights.InputGradient, 0.3), model.Predict, rows, test.Labels.Take(10).ToArray());

        Assert.Equal(copies, rows);
    }
}
