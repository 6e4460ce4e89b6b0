using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Extraction;

/// <summary>
/// The extraction attacker's own model: a one-hidden-layer ReLU perceptron over the same 64 pixel counts (scaled by
/// 1/16 like the target), trained from scratch on the rows it queried and the labels the target gave, by mini-batch
/// SGD with momentum on cross-entropy. Deterministic (seeded <see cref="DeterministicRandom"/>, one thread, fixed
/// order). Returned as <see cref="DigitsWeights"/>, whose <see cref="DigitsWeights.InputGradient"/> gives the input
/// gradient the Jacobian augmentation steps along.
/// </summary>
public static class SubstituteTrainer
{
    /// <summary>Hidden units unless told otherwise.</summary>
    public const int DefaultHidden = 32;

    /// <summary>Passes over the rows unless told otherwise.</summary>
    public const int DefaultEpochs = 40;

    private const int BatchSize = 16;
    private const double LearningRate = 0.05;
    private const double Momentum = 0.9;
    private const int Pixels = DigitsData.PixelCount;
    private const int Classes = DigitsData.ClassCount;

    /// <summary>Trains a substitute on <paramref name="rows"/> (64 pixel counts each) labelled <paramref name="labels"/> (0..9).</summary>
    public static DigitsWeights Train(IReadOnlyList<float[]> rows, IReadOnlyList<int> labels, ulong seed, int hidden = DefaultHidden, int epochs = DefaultEpochs)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        if (rows.Count == 0 || rows.Count != labels.Count)
        {
            throw new ArgumentException("Needs at least one row and one label per row.", nameof(rows));
        }

        var random = new DeterministicRandom(seed);
        var w1 = new double[Pixels * hidden];
        var b1 = new double[hidden];
        var w2 = new double[hidden * Classes];
        var b2 = new double[Classes];
        for (var i = 0; i < w1.Length; i++)
        {
            w1[i] = random.NextNormal(0, Math.Sqrt(2.0 / Pixels));
        }

        for (var i = 0; i < w2.Length; i++)
        {
            w2[i] = random.NextNormal(0, Math.Sqrt(2.0 / hidden));
        }

        double[][] parameters = [w1, b1, w2, b2];
        var velocities = parameters.Select(p => new double[p.Length]).ToArray();
        var gradients = parameters.Select(p => new double[p.Length]).ToArray();
        var network = new Network(hidden, w1, b1, w2, b2);
        var order = Enumerable.Range(0, rows.Count).ToArray();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            for (var i = order.Length - 1; i > 0; i--)
            {
                var j = (int)(random.NextUInt64() % (ulong)(i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }

            for (var start = 0; start < order.Length; start += BatchSize)
            {
                var count = Math.Min(BatchSize, order.Length - start);
                foreach (var gradient in gradients)
                {
                    Array.Clear(gradient);
                }

                for (var b = 0; b < count; b++)
                {
                    var row = order[start + b];
                    network.AddGradients(rows[row], labels[row], gradients);
                }

                for (var p = 0; p < parameters.Length; p++)
                {
                    for (var i = 0; i < parameters[p].Length; i++)
                    {
                        velocities[p][i] = (Momentum * velocities[p][i]) - (LearningRate * gradients[p][i] / count);
                        parameters[p][i] += velocities[p][i];
                    }
                }
            }
        }

        static float[] Single(double[] values) => Array.ConvertAll(values, v => (float)v);
        return new DigitsWeights(hidden, Single(w1), Single(b1), Single(w2), Single(b2));
    }

    /// <summary>The forward and backward pass of one row, over the weights being trained (updated in place between batches).</summary>
    private sealed class Network(int hidden, double[] w1, double[] b1, double[] w2, double[] b2)
    {
        private readonly double[] _input = new double[Pixels];
        private readonly double[] _preActivation = new double[hidden];
        private readonly double[] _hidden = new double[hidden];
        private readonly double[] _delta = new double[Classes];

        /// <summary>Adds the cross-entropy gradients of one row to <paramref name="gradients"/> (w1, b1, w2, b2).</summary>
        public void AddGradients(float[] row, int label, double[][] gradients)
        {
            for (var i = 0; i < Pixels; i++)
            {
                _input[i] = row[i] * (double)DigitsWeights.PixelScale;
            }

            Array.Copy(b1, _preActivation, hidden);
            for (var i = 0; i < Pixels; i++)
            {
                if (_input[i] == 0.0)
                {
                    continue;
                }

                for (var j = 0; j < hidden; j++)
                {
                    _preActivation[j] += _input[i] * w1[(i * hidden) + j];
                }
            }

            Array.Copy(b2, _delta, Classes);
            for (var j = 0; j < hidden; j++)
            {
                _hidden[j] = Math.Max(_preActivation[j], 0.0);
                for (var c = 0; c < Classes; c++)
                {
                    _delta[c] += _hidden[j] * w2[(j * Classes) + c];
                }
            }

            var max = _delta.Max();
            var total = 0.0;
            for (var c = 0; c < Classes; c++)
            {
                _delta[c] = Math.Exp(_delta[c] - max);
                total += _delta[c];
            }

            for (var c = 0; c < Classes; c++)
            {
                _delta[c] /= total;
            }

            _delta[label] -= 1.0;
            var (gw1, gb1, gw2, gb2) = (gradients[0], gradients[1], gradients[2], gradients[3]);
            for (var c = 0; c < Classes; c++)
            {
                gb2[c] += _delta[c];
            }

            for (var j = 0; j < hidden; j++)
            {
                var back = 0.0;
                for (var c = 0; c < Classes; c++)
                {
                    gw2[(j * Classes) + c] += _hidden[j] * _delta[c];
                    back += w2[(j * Classes) + c] * _delta[c];
                }

                _preActivation[j] = _preActivation[j] > 0.0 ? back : 0.0;
                gb1[j] += _preActivation[j];
            }

            for (var i = 0; i < Pixels; i++)
            {
                if (_input[i] == 0.0)
                {
                    continue;
                }

                for (var j = 0; j < hidden; j++)
                {
                    gw1[(i * hidden) + j] += _input[i] * _preActivation[j];
                }
            }
        }
    }
}
