using System.Text;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Redaction;

/// <summary>
/// Output hardening against model extraction and inversion: rounding, top-k and label-only views of a score tensor of
/// shape <c>[batch, classes]</c> or <c>[classes]</c> (FP16, FP32 or FP64). Every method returns new tensors and never
/// writes to its input. Ranking is by descending score, ties go to the lower class index, and NaN ranks last.
/// </summary>
public static class OutputHardener
{
    /// <summary>The most decimal digits <see cref="Math.Round(double, int)"/> accepts; larger values are clamped.</summary>
    public const int MaxRoundDigits = 15;

    /// <summary>Rounds every element to <paramref name="digits"/> decimal places (midpoints away from zero); NaN and ±∞ are kept.</summary>
    public static Tensor Round(Tensor scores, int digits)
    {
        var view = ScoreView.Of(scores, requireMatrix: false);
        var values = view.Values;
        var rounded = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            rounded[i] = RoundValue(values[i], digits);
        }

        return new Tensor(scores.Name, scores.DataType, (long[])scores.Shape.Clone(), ToArray(scores.DataType, rounded));
    }

    /// <summary>
    /// The <paramref name="k"/> best scores per row, descending and optionally rounded, as <c>{name}</c> (same datatype),
    /// and their classes as <c>{name}_classes</c>: BYTES labels when <paramref name="labels"/> is given, INT64 indices
    /// otherwise. Shapes are <c>[batch, k]</c>, or <c>[k]</c> for a one-dimensional input; k is capped at the class count.
    /// </summary>
    public static (Tensor Scores, Tensor Classes) TopK(Tensor scores, int k, int? roundDigits, IReadOnlyList<string>? labels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var view = ScoreView.Of(scores, requireMatrix: true);
        k = Math.Min(k, view.Classes);
        var top = new double[view.Batch * k];
        var indices = new long[view.Batch * k];
        for (var row = 0; row < view.Batch; row++)
        {
            var order = Rank(view.Row(row));
            for (var j = 0; j < k; j++)
            {
                var score = view.Row(row)[order[j]];
                top[(row * k) + j] = roundDigits is int digits ? RoundValue(score, digits) : score;
                indices[(row * k) + j] = order[j];
            }
        }

        long[] shape = scores.Shape.Length == 1 ? [k] : [view.Batch, k];
        var scoreTensor = new Tensor(scores.Name, scores.DataType, shape, ToArray(scores.DataType, top));
        var classTensor = labels is null
            ? new Tensor(scores.Name + "_classes", TensorDataType.Int64, (long[])shape.Clone(), indices)
            : new Tensor(scores.Name + "_classes", TensorDataType.Bytes, (long[])shape.Clone(), LabelsOf(indices, labels, view.Classes));
        return (scoreTensor, classTensor);
    }

    /// <summary>
    /// Only the best class per row, as <c>{name}</c>: BYTES labels when <paramref name="labels"/> is given, INT64 indices
    /// otherwise; shape <c>[batch]</c> (<c>[1]</c> for a one-dimensional input).
    /// </summary>
    public static Tensor Label(Tensor scores, IReadOnlyList<string>? labels)
    {
        var view = ScoreView.Of(scores, requireMatrix: true);
        var best = new long[view.Batch];
        for (var row = 0; row < view.Batch; row++)
        {
            best[row] = BestIndex(view.Row(row));
        }

        long[] shape = [view.Batch];
        return labels is null
            ? new Tensor(scores.Name, TensorDataType.Int64, shape, best)
            : new Tensor(scores.Name, TensorDataType.Bytes, shape, LabelsOf(best, labels, view.Classes));
    }

    /// <summary>Class indices of <paramref name="row"/> from best to worst (descending score, ties by index, NaN last).</summary>
    internal static int[] Rank(ReadOnlySpan<double> row)
    {
        var order = new int[row.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var keys = row.ToArray();
        Array.Sort(order, (a, b) => Compare(keys, a, b));
        return order;
    }

    private static long BestIndex(ReadOnlySpan<double> row)
    {
        var keys = row.ToArray();
        var best = 0;
        for (var i = 1; i < keys.Length; i++)
        {
            if (Compare(keys, i, best) < 0)
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Negative when class <paramref name="a"/> ranks before class <paramref name="b"/>.</summary>
    private static int Compare(double[] scores, int a, int b)
    {
        var x = scores[a];
        var y = scores[b];
        var xNaN = double.IsNaN(x);
        var yNaN = double.IsNaN(y);
        if (xNaN != yNaN)
        {
            return xNaN ? 1 : -1;
        }

        if (!xNaN && x != y)
        {
            return y.CompareTo(x);
        }

        return a.CompareTo(b);
    }

    // A value that rounds to zero is +0: -0 (a small negative value rounded, or a model's own -0) told which side of
    // zero, often the decision boundary, the value fell on, which the rounding is there to hide (found in review).
    private static double RoundValue(double value, int digits) =>
        double.IsFinite(value) ? Math.Round(value, Math.Clamp(digits, 0, MaxRoundDigits), MidpointRounding.AwayFromZero) + 0.0 : value;

    private static byte[][] LabelsOf(long[] indices, IReadOnlyList<string> labels, int classes)
    {
        if (labels.Count < classes)
        {
            throw new InvalidOperationException("The output rule has fewer labels than the model has classes.");
        }

        var result = new byte[indices.Length][];
        for (var i = 0; i < indices.Length; i++)
        {
            result[i] = Encoding.UTF8.GetBytes(labels[(int)indices[i]]);
        }

        return result;
    }

    private static Array ToArray(TensorDataType type, double[] values) => type switch
    {
        TensorDataType.Fp64 => values,
        TensorDataType.Fp32 => Array.ConvertAll(values, static v => (float)v),
        TensorDataType.Fp16 => Array.ConvertAll(values, static v => (Half)v),
        _ => throw new InvalidOperationException("Only FP16, FP32 and FP64 outputs can be hardened."),
    };

    /// <summary>A score tensor read as doubles, with its batch and class counts.</summary>
    private sealed class ScoreView
    {
        private ScoreView(double[] values, int batch, int classes)
        {
            Values = values;
            Batch = batch;
            Classes = classes;
        }

        public double[] Values { get; }

        public int Batch { get; }

        public int Classes { get; }

        public ReadOnlySpan<double> Row(int row) => Values.AsSpan(row * Classes, Classes);

        public static ScoreView Of(Tensor tensor, bool requireMatrix)
        {
            ArgumentNullException.ThrowIfNull(tensor);
            var values = tensor.Data switch
            {
                double[] d => (double[])d.Clone(),
                float[] f => Array.ConvertAll(f, static v => (double)v),
                Half[] h => Array.ConvertAll(h, static v => (double)v),
                _ => throw new InvalidOperationException("Only FP16, FP32 and FP64 outputs can be hardened."),
            };

            if (Tensor.ShapeElementCount(tensor.Shape) != values.Length)
            {
                throw new InvalidOperationException("The output's shape does not match its data.");
            }

            if (!requireMatrix)
            {
                return new ScoreView(values, 1, values.Length);
            }

            return tensor.Shape.Length switch
            {
                1 when tensor.Shape[0] > 0 => new ScoreView(values, 1, values.Length),
                2 when tensor.Shape[1] > 0 => new ScoreView(values, (int)tensor.Shape[0], (int)tensor.Shape[1]),
                _ => throw new InvalidOperationException("Top-k and label outputs need a score tensor of shape [batch, classes] or [classes]."),
            };
        }
    }
}
