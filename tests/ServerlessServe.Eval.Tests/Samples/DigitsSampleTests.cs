using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Eval.Tests.Fixtures;
using ServerlessServe.Local.Samples;
using Xunit.Abstractions;

namespace ServerlessServe.Eval.Tests.Samples;

public sealed class DigitsSampleTests(OnnxDigitsModel model, ITestOutputHelper output) : IClassFixture<OnnxDigitsModel>
{
    /// <summary>
    /// SHA-256 of the model as built. Training uses only correctly rounded arithmetic, so these bytes are the same on
    /// every platform; change the pin only with a deliberate change to the data, the split, the graph or training.
    /// </summary>
    private const string ModelSha256 = "f2df81c17cfac17e63c61a5f9dccb61d7b9990d815b69cbb2e95f1f0c39982f0";

    [Fact]
    public void BuildModel_RetrainedFromScratch_SameBytes()
    {
        var retrained = DigitsSample.Train(DigitsData.Load().Train);

        Assert.NotSame(DigitsSample.Weights, retrained);
        Assert.Equal(DigitsSample.Weights.W1.ToArray(), retrained.W1.ToArray());
        Assert.Equal(DigitsSample.Weights.B2.ToArray(), retrained.B2.ToArray());
        Assert.Equal(DigitsSample.BuildModel(), DigitsSample.BuildModel(retrained));
    }

    [Fact]
    public void BuildModel_Bytes_MatchThePinnedDigest()
    {
        Assert.Equal(ModelSha256, Convert.ToHexStringLower(SHA256.HashData(DigitsSample.BuildModel())));
    }

    [Fact]
    public void BuildModel_Graph_RawPixelsInProbabilitiesOut()
    {
        using var session = new InferenceSession(DigitsSample.BuildModel());

        var input = Assert.Single(session.InputMetadata);
        Assert.Equal(DigitsSample.InputName, input.Key);
        Assert.Equal(typeof(float), input.Value.ElementType);
        Assert.Equal([-1, DigitsData.PixelCount], input.Value.Dimensions);
        var result = Assert.Single(session.OutputMetadata);
        Assert.Equal(DigitsSample.OutputName, result.Key);
        Assert.Equal([-1, DigitsData.ClassCount], result.Value.Dimensions);
        Assert.Equal(DigitsSample.Hidden, DigitsSample.Weights.Hidden);
    }

    [Fact]
    public void OnnxRuntime_TestSplit_AtLeast95PercentCorrect()
    {
        var test = DigitsData.Load().Test;

        var predictions = model.Predict(test.Rows());

        var correct = Enumerable.Range(0, test.Count).Count(i => predictions[i] == test.Labels[i]);
        var accuracy = correct / (double)test.Count;
        output.WriteLine($"test accuracy on ONNX Runtime: {correct}/{test.Count} = {accuracy:P2}");
        Assert.True(accuracy >= 0.95, $"accuracy {correct}/{test.Count}");
    }

    [Fact]
    public void OnnxRuntime_TrainSplit_FitsBetterThanTest()
    {
        var (train, test) = DigitsData.Load();

        var trainAccuracy = Accuracy(model.Predict(train.Rows()), train.Labels);
        var testAccuracy = Accuracy(model.Predict(test.Rows()), test.Labels);

        output.WriteLine($"train {trainAccuracy:P2}, test {testAccuracy:P2}");
        Assert.True(trainAccuracy >= testAccuracy);
    }

    [Fact]
    public void Probabilities_EveryTestRow_MatchesOnnxRuntime()
    {
        var test = DigitsData.Load().Test;
        var rows = test.Rows();

        var expected = model.Probabilities(rows);

        var largest = 0f;
        for (var r = 0; r < rows.Count; r++)
        {
            var actual = DigitsSample.Weights.Probabilities(rows[r]);
            Assert.Equal(1.0, actual.Sum(), 1e-5);
            for (var c = 0; c < DigitsData.ClassCount; c++)
            {
                largest = MathF.Max(largest, MathF.Abs(actual[c] - expected[r][c]));
            }

            Assert.Equal(Array.IndexOf(expected[r], expected[r].Max()), DigitsSample.Weights.Predict(rows[r]));
        }

        output.WriteLine($"largest difference from ONNX Runtime: {largest:E2}");
        Assert.True(largest <= 1e-4f, $"largest difference {largest}");
    }

    [Fact]
    public void InputGradient_TestRows_MatchesCentralDifferences()
    {
        // A power of two, so x ± h is exact in float for every pixel count 0..16.
        const float h = 1f / 1024;
        var weights = DigitsSample.Weights;
        var test = DigitsData.Load().Test;

        var largest = 0.0;
        for (var r = 0; r < test.Count; r += 37)
        {
            var row = test.Row(r);
            foreach (var label in new[] { test.Labels[r], (test.Labels[r] + 3) % DigitsData.ClassCount })
            {
                var gradient = weights.InputGradient(row, label);
                for (var i = 0; i < DigitsData.PixelCount; i++)
                {
                    var plus = row.ToArray();
                    plus[i] += h;
                    var minus = row.ToArray();
                    minus[i] -= h;
                    var numeric = (weights.Loss(plus, label) - weights.Loss(minus, label)) / (2 * h);

                    var error = Math.Abs(gradient[i] - numeric);
                    largest = Math.Max(largest, error);
                    Assert.True(error <= 1e-4 + (1e-3 * Math.Abs(numeric)), $"row {r} label {label} pixel {i}: analytic {gradient[i]}, numeric {numeric}");
                }
            }
        }

        output.WriteLine($"largest gradient error: {largest:E2}");
    }

    private static double Accuracy(IReadOnlyList<int> predictions, IReadOnlyList<int> labels) =>
        Enumerable.Range(0, labels.Count).Count(i => predictions[i] == labels[i]) / (double)labels.Count;
}
