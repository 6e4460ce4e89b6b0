using Google.Protobuf;
using Onnx;

namespace ServerlessServe.Local.Samples;

/// <summary>
/// The image sample: a handwritten-digit classifier over the UCI digits (see <see cref="DigitsData"/>), a perceptron
/// with one hidden ReLU layer trained here on the training split by mini-batch SGD with momentum. The graph takes raw
/// pixel counts and normalises them itself:
/// <c>pixels</c> FP32 [batch, 64] (0..16) → Mul 1/16 → MatMul + Add → Relu → MatMul + Add → Softmax →
/// <c>probabilities</c> FP32 [batch, 10].
/// Training is deterministic (seeded <see cref="DeterministicRandom"/>, one thread, fixed order, an exp of our own)
/// and the weights are rounded to 1e-4, so the model's bytes are the same on every run and platform.
/// </summary>
public static class DigitsSample
{
    public const string Name = "digits";

    /// <summary>The input: one row per image of 64 raw pixel counts 0..16 (8×8, row by row).</summary>
    public const string InputName = "pixels";

    /// <summary>The output: the probability of each digit 0..9.</summary>
    public const string OutputName = "probabilities";

    /// <summary>Hidden units.</summary>
    public const int Hidden = 32;

    public const ulong TrainingSeed = 19980701;

    /// <summary>Passes over the training split.</summary>
    public const int Epochs = 30;

    /// <summary>Rows per SGD step.</summary>
    public const int BatchSize = 32;

    /// <summary>Learning rate; divided by 10 for the last quarter of the epochs.</summary>
    public const double LearningRate = 0.05;

    /// <summary>Momentum of the SGD velocity.</summary>
    public const double Momentum = 0.9;

    /// <summary>L2 penalty on the weight matrices (not the biases).</summary>
    public const double L2 = 1e-4;

    private const int Pixels = DigitsData.PixelCount;

    private const int Classes = DigitsData.ClassCount;

    private static readonly Lazy<DigitsWeights> Trained = new(() => Train(DigitsData.Load().Train), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The trained weights (trained on first use, then shared).</summary>
    public static DigitsWeights Weights => Trained.Value;

    /// <summary>The trained model (same bytes on every run).</summary>
    public static byte[] BuildModel() => BuildModel(Weights);

    /// <summary>The graph around <paramref name="weights"/>.</summary>
    internal static byte[] BuildModel(DigitsWeights weights)
    {
        var graph = new GraphProto { Name = "digits_mlp" };
        graph.Input.Add(OnnxBuild.Value(InputName, TensorProto.Types.DataType.Float, null, Pixels));
        graph.Output.Add(OnnxBuild.Value(OutputName, TensorProto.Types.DataType.Float, null, Classes));
        graph.Initializer.Add(OnnxBuild.FloatTensor("pixel_scale", [DigitsWeights.PixelScale]));
        graph.Initializer.Add(OnnxBuild.FloatTensor("hidden_weights", weights.W1.ToArray(), Pixels, weights.Hidden));
        graph.Initializer.Add(OnnxBuild.FloatTensor("hidden_bias", weights.B1.ToArray(), weights.Hidden));
        graph.Initializer.Add(OnnxBuild.FloatTensor("output_weights", weights.W2.ToArray(), weights.Hidden, Classes));
        graph.Initializer.Add(OnnxBuild.FloatTensor("output_bias", weights.B2.ToArray(), Classes));
        graph.Node.Add(OnnxBuild.Node("Mul", "normalise", [InputName, "pixel_scale"], ["scaled"]));
        graph.Node.Add(OnnxBuild.Node("MatMul", "hidden_linear", ["scaled", "hidden_weights"], ["hidden_linear_out"]));
        graph.Node.Add(OnnxBuild.Node("Add", "hidden_bias_add", ["hidden_linear_out", "hidden_bias"], ["hidden_pre"]));
        graph.Node.Add(OnnxBuild.Node("Relu", "hidden_relu", ["hidden_pre"], ["hidden"]));
        graph.Node.Add(OnnxBuild.Node("MatMul", "output_linear", ["hidden", "output_weights"], ["output_linear_out"]));
        graph.Node.Add(OnnxBuild.Node("Add", "output_bias_add", ["output_linear_out", "output_bias"], ["logits"]));
        graph.Node.Add(OnnxBuild.Node("Softmax", "softmax", ["logits"], [OutputName], OnnxBuild.IntAttribute("axis", 1)));
        return OnnxBuild.Model(graph, "Handwritten digit 0..9 from 8×8 pixel counts 0..16 (UCI optdigits, CC BY 4.0); one-hidden-layer perceptron trained on a fixed split.").ToByteArray();
    }

    /// <summary>
    /// Mini-batch SGD with momentum on cross-entropy plus L2: He-normal initial weights, zero biases, the rows shuffled
    /// by Fisher–Yates before every epoch. Single-threaded and in a fixed order; the softmax uses
    /// <see cref="DeterministicMath.Exp"/>, so every intermediate value is bit-identical across platforms, and the result
    /// is rounded to 1e-4 besides (as <see cref="CreditRiskSample"/> does).
    /// </summary>
    internal static DigitsWeights Train(DigitsSet train)
    {
        var random = new DeterministicRandom(TrainingSeed);
        var n = train.Count;
        var x = new double[n * Pixels];
        var source = train.Pixels.Span;
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = source[i] * (double)DigitsWeights.PixelScale;
        }

        var w1 = new double[Pixels * Hidden];
        var b1 = new double[Hidden];
        var w2 = new double[Hidden * Classes];
        var b2 = new double[Classes];
        Initialise(w1, Math.Sqrt(2.0 / Pixels), random);
        Initialise(w2, Math.Sqrt(2.0 / Hidden), random);
        double[][] parameters = [w1, b1, w2, b2];
        var velocities = parameters.Select(p => new double[p.Length]).ToArray();
        var gradients = parameters.Select(p => new double[p.Length]).ToArray();
        var (gw1, gb1, gw2, gb2) = (gradients[0], gradients[1], gradients[2], gradients[3]);

        var preActivation = new double[Hidden];
        var hidden = new double[Hidden];
        var delta = new double[Classes];
        var order = Enumerable.Range(0, n).ToArray();
        for (var epoch = 0; epoch < Epochs; epoch++)
        {
            var learningRate = epoch < Epochs * 3 / 4 ? LearningRate : LearningRate / 10;
            Shuffle(order, random);
            for (var start = 0; start < n; start += BatchSize)
            {
                var count = Math.Min(BatchSize, n - start);
                foreach (var gradient in gradients)
                {
                    Array.Clear(gradient);
                }

                for (var b = 0; b < count; b++)
                {
                    var row = order[start + b];
                    var input = x.AsSpan(row * Pixels, Pixels);
                    Forward(input, w1, b1, w2, b2, preActivation, hidden, delta);
                    delta[train.Labels[row]] -= 1.0;
                    Backward(input, w2, preActivation, hidden, delta, gw1, gb1, gw2, gb2);
                }

                for (var p = 0; p < parameters.Length; p++)
                {
                    var decay = p is 0 or 2 ? L2 : 0.0;
                    var (weights, velocity, gradient) = (parameters[p], velocities[p], gradients[p]);
                    for (var i = 0; i < weights.Length; i++)
                    {
                        velocity[i] = (Momentum * velocity[i]) - (learningRate * ((gradient[i] / count) + (decay * weights[i])));
                        weights[i] += velocity[i];
                    }
                }
            }
        }

        return new DigitsWeights(Hidden, Round(w1), Round(b1), Round(w2), Round(b2));
    }

    /// <summary>Fills <paramref name="probabilities"/> with the softmax of one scaled row.</summary>
    private static void Forward(
        ReadOnlySpan<double> input, double[] w1, double[] b1, double[] w2, double[] b2, double[] preActivation, double[] hidden, double[] probabilities)
    {
        Array.Copy(b1, preActivation, Hidden);
        for (var i = 0; i < Pixels; i++)
        {
            var value = input[i];
            if (value == 0.0)
            {
                continue;
            }

            for (var j = 0; j < Hidden; j++)
            {
                preActivation[j] += value * w1[(i * Hidden) + j];
            }
        }

        Array.Copy(b2, probabilities, Classes);
        for (var j = 0; j < Hidden; j++)
        {
            hidden[j] = Math.Max(preActivation[j], 0.0);
            for (var c = 0; c < Classes; c++)
            {
                probabilities[c] += hidden[j] * w2[(j * Classes) + c];
            }
        }

        var max = probabilities.Max();
        var total = 0.0;
        for (var c = 0; c < Classes; c++)
        {
            probabilities[c] = DeterministicMath.Exp(probabilities[c] - max);
            total += probabilities[c];
        }

        for (var c = 0; c < Classes; c++)
        {
            probabilities[c] /= total;
        }
    }

    /// <summary>Adds one row's gradients, given δ = p − onehot(label) at the logits.</summary>
    private static void Backward(
        ReadOnlySpan<double> input, double[] w2, double[] preActivation, double[] hidden, double[] delta, double[] gw1, double[] gb1, double[] gw2, double[] gb2)
    {
        for (var c = 0; c < Classes; c++)
        {
            gb2[c] += delta[c];
        }

        for (var j = 0; j < Hidden; j++)
        {
            var back = 0.0;
            for (var c = 0; c < Classes; c++)
            {
                gw2[(j * Classes) + c] += hidden[j] * delta[c];
                back += w2[(j * Classes) + c] * delta[c];
            }

            // Reuse preActivation for ∂L/∂z1 of this row (its value is no longer needed).
            preActivation[j] = preActivation[j] > 0.0 ? back : 0.0;
            gb1[j] += preActivation[j];
        }

        for (var i = 0; i < Pixels; i++)
        {
            var value = input[i];
            if (value == 0.0)
            {
                continue;
            }

            for (var j = 0; j < Hidden; j++)
            {
                gw1[(i * Hidden) + j] += value * preActivation[j];
            }
        }
    }

    private static void Initialise(double[] weights, double deviation, DeterministicRandom random)
    {
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = random.NextNormal(0.0, deviation);
        }
    }

    private static void Shuffle(int[] order, DeterministicRandom random)
    {
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private static float[] Round(double[] values) => values.Select(v => (float)Math.Round(v, 4, MidpointRounding.ToEven)).ToArray();
}
