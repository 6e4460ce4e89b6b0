using Google.Protobuf;
using Onnx;

namespace ServerlessServe.Local.Samples;

/// <summary>
/// The tabular sample: a softmax-regression credit-risk classifier (low / medium / high) over four features, trained
/// here by full-batch gradient descent on a synthetic, seeded data set of three Gaussian clusters. The graph standardises
/// the features with the training mean and deviation, then MatMul + Add + Softmax:
/// <c>features</c> FP32 [batch, 4] → <c>probabilities</c> FP32 [batch, 3].
/// </summary>
public static class CreditRiskSample
{
    public const string Name = "credit-risk";

    /// <summary>The input: one row per applicant of debt-to-income, credit utilisation, late payments in 12 months and years of credit history.</summary>
    public const string InputName = "features";

    public const string OutputName = "probabilities";

    public static IReadOnlyList<string> Labels { get; } = ["low", "medium", "high"];

    public const int FeatureCount = 4;

    public const int ClassCount = 3;

    public const ulong TrainingSeed = 20240611;

    // Per class: means and standard deviations of the four features.
    private static readonly double[][] Means = [[0.20, 0.15, 0.2, 15.0], [0.40, 0.45, 1.5, 8.0], [0.65, 0.80, 4.0, 4.0]];
    private static readonly double[][] Deviations = [[0.08, 0.08, 0.4, 5.0], [0.10, 0.12, 1.0, 4.0], [0.12, 0.12, 1.8, 3.0]];

    /// <summary>
    /// Draws <paramref name="perClass"/> rows of each class from the clusters (row-major, 4 features) with their labels.
    /// Values are clipped to the policy's input range (0..100).
    /// </summary>
    public static (float[] Features, int[] Labels) GenerateDataset(int perClass, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var features = new float[perClass * ClassCount * FeatureCount];
        var labels = new int[perClass * ClassCount];
        for (var row = 0; row < labels.Length; row++)
        {
            var label = row % ClassCount;
            labels[row] = label;
            for (var f = 0; f < FeatureCount; f++)
            {
                var value = random.NextNormal(Means[label][f], Deviations[label][f]);
                features[(row * FeatureCount) + f] = (float)Math.Clamp(value, 0.0, 100.0);
            }
        }

        return (features, labels);
    }

    /// <summary>The trained model (same bytes on every run).</summary>
    public static byte[] BuildModel()
    {
        var weights = Train();
        var graph = new GraphProto { Name = "credit_risk_softmax_regression" };
        graph.Input.Add(OnnxBuild.Value(InputName, TensorProto.Types.DataType.Float, null, FeatureCount));
        graph.Output.Add(OnnxBuild.Value(OutputName, TensorProto.Types.DataType.Float, null, ClassCount));
        graph.Initializer.Add(OnnxBuild.FloatTensor("feature_mean", weights.Mean, FeatureCount));
        graph.Initializer.Add(OnnxBuild.FloatTensor("feature_std", weights.Std, FeatureCount));
        graph.Initializer.Add(OnnxBuild.FloatTensor("weights", weights.W, FeatureCount, ClassCount));
        graph.Initializer.Add(OnnxBuild.FloatTensor("bias", weights.B, ClassCount));
        graph.Node.Add(OnnxBuild.Node("Sub", "center", [InputName, "feature_mean"], ["centered"]));
        graph.Node.Add(OnnxBuild.Node("Div", "scale", ["centered", "feature_std"], ["scaled"]));
        graph.Node.Add(OnnxBuild.Node("MatMul", "linear", ["scaled", "weights"], ["linear_out"]));
        graph.Node.Add(OnnxBuild.Node("Add", "bias_add", ["linear_out", "bias"], ["logits"]));
        graph.Node.Add(OnnxBuild.Node("Softmax", "softmax", ["logits"], [OutputName], OnnxBuild.IntAttribute("axis", 1)));
        return OnnxBuild.Model(graph, "Credit-risk class (low, medium, high) from four features; softmax regression trained on seeded synthetic data.").ToByteArray();
    }

    internal sealed record TrainedWeights(float[] Mean, float[] Std, float[] W, float[] B);

    /// <summary>
    /// Softmax regression by full-batch gradient descent (single-threaded, fixed order). The results are rounded to 1e-4 so
    /// that last-bit differences of <see cref="Math.Exp"/> between platforms cannot change the model's bytes.
    /// </summary>
    internal static TrainedWeights Train()
    {
        const int perClass = 400;
        const int epochs = 400;
        const double learningRate = 0.5;
        const double l2 = 1e-3;

        var (features, labels) = GenerateDataset(perClass, TrainingSeed);
        var n = labels.Length;

        var mean = new double[FeatureCount];
        var std = new double[FeatureCount];
        for (var f = 0; f < FeatureCount; f++)
        {
            var sum = 0.0;
            for (var r = 0; r < n; r++)
            {
                sum += features[(r * FeatureCount) + f];
            }

            mean[f] = Round4(sum / n);
            var squares = 0.0;
            for (var r = 0; r < n; r++)
            {
                var d = features[(r * FeatureCount) + f] - mean[f];
                squares += d * d;
            }

            std[f] = Round4(Math.Sqrt(squares / n));
        }

        var x = new double[n * FeatureCount];
        for (var r = 0; r < n; r++)
        {
            for (var f = 0; f < FeatureCount; f++)
            {
                x[(r * FeatureCount) + f] = (features[(r * FeatureCount) + f] - mean[f]) / std[f];
            }
        }

        var w = new double[FeatureCount * ClassCount];
        var b = new double[ClassCount];
        var probabilities = new double[ClassCount];
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var gradW = new double[FeatureCount * ClassCount];
            var gradB = new double[ClassCount];
            for (var r = 0; r < n; r++)
            {
                Softmax(x.AsSpan(r * FeatureCount, FeatureCount), w, b, probabilities);
                for (var c = 0; c < ClassCount; c++)
                {
                    var error = probabilities[c] - (labels[r] == c ? 1.0 : 0.0);
                    gradB[c] += error;
                    for (var f = 0; f < FeatureCount; f++)
                    {
                        gradW[(f * ClassCount) + c] += error * x[(r * FeatureCount) + f];
                    }
                }
            }

            for (var i = 0; i < w.Length; i++)
            {
                w[i] -= learningRate * ((gradW[i] / n) + (l2 * w[i]));
            }

            for (var c = 0; c < ClassCount; c++)
            {
                b[c] -= learningRate * gradB[c] / n;
            }
        }

        return new TrainedWeights(ToFloat(mean), ToFloat(std), ToFloat(w), ToFloat(b));
    }

    private static void Softmax(ReadOnlySpan<double> row, double[] w, double[] b, double[] output)
    {
        var max = double.NegativeInfinity;
        for (var c = 0; c < ClassCount; c++)
        {
            var z = b[c];
            for (var f = 0; f < FeatureCount; f++)
            {
                z += row[f] * w[(f * ClassCount) + c];
            }

            output[c] = z;
            max = Math.Max(max, z);
        }

        var total = 0.0;
        for (var c = 0; c < ClassCount; c++)
        {
            output[c] = Math.Exp(output[c] - max);
            total += output[c];
        }

        for (var c = 0; c < ClassCount; c++)
        {
            output[c] /= total;
        }
    }

    private static double Round4(double value) => Math.Round(value, 4, MidpointRounding.ToEven);

    private static float[] ToFloat(double[] values) => values.Select(v => (float)Round4(v)).ToArray();
}
