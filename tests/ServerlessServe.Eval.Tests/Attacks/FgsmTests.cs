using ServerlessServe.Eval.Attacks;
using ServerlessServe.Eval.Tests.Fixtures;
using ServerlessServe.Local.Samples;
using Xunit.Abstractions;

namespace ServerlessServe.Eval.Tests.Attacks;

public sealed class FgsmTests(OnnxDigitsModel model, ITestOutputHelper output) : IClassFixture<OnnxDigitsModel>
{
    /// <summary>
    /// Bounds below what was measured on the 437 test rows ONNX Runtime gets right (ε = 0.1: 50.1 %, ε = 0.3: 100 %),
    /// with a margin for a retrained model.
    /// </summary>
    [Theory]
    [InlineData(0.1, 0.4)]
    [InlineData(0.3, 0.9)]
    public void Perturb_Epsilon_FoolsOnnxRuntimeOnAClearShareOfCorrectTestRows(double epsilon, double bound)
    {
        var test = DigitsData.Load().Test;

        var results = AttackRunner.Run(new Fgsm(DigitsSample.Weights.InputGradient, epsilon), model.Predict, test.Rows(), test.Labels);

        var rate = AttackRunner.SuccessRate(results);
        output.WriteLine($"FGSM ε={epsilon}: {results.Count(r => r.Succeeded)}/{results.Count(r => r.CleanCorrect)} = {rate:P1}");
        Assert.True(rate > bound, $"success rate {rate:P1}");
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.1)]
    [InlineData(0.2)]
    [InlineData(0.3)]
    public void Perturb_AnyEpsilon_StaysInRangeAndWithinEpsilon(double epsilon)
    {
        var test = DigitsData.Load().Test;

        var results = AttackRunner.Run(new Fgsm(DigitsSample.Weights.InputGradient, epsilon), model.Predict, test.Rows(), test.Labels);

        AttackAssert.WithinBudget(results, epsilon);
        output.WriteLine($"FGSM ε={epsilon}: {AttackRunner.SuccessRate(results):P1}");
    }

    [Fact]
    public void Perturb_EveryPixel_MovesByEpsilonAgainstTheGradientOrToABound()
    {
        var weights = DigitsSample.Weights;
        var row = DigitsData.Load().Test.Row(5);
        var label = DigitsData.Load().Test.Labels[5];
        var attack = new Fgsm(weights.InputGradient, 0.1);

        var adversarial = attack.Perturb(row, label);

        var gradient = weights.InputGradient(row, label);
        for (var i = 0; i < row.Length; i++)
        {
            var expected = Math.Clamp(row[i] + (1.6f * MathF.Sign(gradient[i])), 0f, DigitsData.MaxPixel);
            Assert.Equal(expected, adversarial[i], 1e-5f);
        }

        Assert.Equal(1.6f, attack.EpsilonUnits, 1e-6f);
    }

    [Fact]
    public void Perturb_LargerEpsilon_FoolsAtLeastAsManyRows()
    {
        var test = DigitsData.Load().Test;
        var rows = test.Rows();

        var rates = new[] { 0.05, 0.1, 0.2, 0.3 }
            .Select(e => AttackRunner.SuccessRate(AttackRunner.Run(new Fgsm(DigitsSample.Weights.InputGradient, e), model.Predict, rows, test.Labels)))
            .ToArray();

        output.WriteLine("FGSM success by ε 0.05/0.1/0.2/0.3: " + string.Join(" / ", rates.Select(r => r.ToString("P1", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal(rates.Order(), rates);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Constructor_EpsilonOutsideZeroToOne_Throws(double epsilon)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Fgsm(DigitsSample.Weights.InputGradient, epsilon));
    }
}
