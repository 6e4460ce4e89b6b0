using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Defenses;

/// <summary>
/// Feature squeezing (Xu, Evans, Qi, NDSS 2018) as plain array work: <see cref="Batch"/> stacks the rows and each
/// squeezer's copy of them into one batch for a single model call, and <see cref="Scores"/> turns that call's
/// prediction vectors into each row's score, the largest L1 distance between the row's prediction and the prediction
/// on one of its squeezed copies (0..2 for probability vectors).
/// </summary>
public static class FeatureSqueezing
{
    /// <summary>The response parameter the inference app reports the request's score in (the gateway reads and drops it).</summary>
    public const string ScoreParameter = "serverlessserve_squeeze_score";

    /// <summary>
    /// [rows × (1 + squeezers), features]: the rows as they are, then each squeezer's copy of all of them, in the
    /// policy's order.
    /// </summary>
    public static float[] Batch(ReadOnlySpan<float> rows, int features, SqueezePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        var batch = new float[rows.Length * (1 + policy.Squeezers.Count)];
        rows.CopyTo(batch);
        for (var s = 0; s < policy.Squeezers.Count; s++)
        {
            var target = batch.AsSpan(rows.Length * (s + 1), rows.Length);
            var squeezer = policy.Squeezers[s];
            for (var offset = 0; offset < rows.Length; offset += features)
            {
                var row = rows.Slice(offset, features);
                var into = target.Slice(offset, features);
                if (squeezer.Kind == SqueezerKind.BitDepth)
                {
                    BitDepth(row, into, squeezer.Bits ?? 8, policy.InputMax);
                }
                else
                {
                    Median(row, into, policy.Image![0], policy.Image[1], squeezer.Size ?? 2);
                }
            }
        }

        return batch;
    }

    /// <summary>Each row's score from the predictions of a <see cref="Batch"/> call ([rows × (1 + squeezers), classes]).</summary>
    public static double[] Scores(ReadOnlySpan<float> predictions, int rows, int classes, int squeezers)
    {
        if (predictions.Length != rows * classes * (1 + squeezers))
        {
            throw new ArgumentException("predictions do not match the batch", nameof(predictions));
        }

        var scores = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            var original = predictions.Slice(r * classes, classes);
            for (var s = 1; s <= squeezers; s++)
            {
                var squeezed = predictions.Slice(((s * rows) + r) * classes, classes);
                var l1 = 0.0;
                for (var c = 0; c < classes; c++)
                {
                    l1 += Math.Abs(original[c] - squeezed[c]);
                }

                scores[r] = double.IsNaN(l1) ? double.NaN : Math.Max(scores[r], l1);
            }
        }

        return scores;
    }

    /// <summary>
    /// The request's score: the largest of its rows' <see cref="Scores"/>, NaN when any row's is (0 with no rows). Not
    /// LINQ's <c>Max</c>, which orders NaN below every number and so would let one clean row hide a row whose
    /// predictions are NaN, and the request pass the check that must fail closed on it.
    /// </summary>
    public static double RequestScore(IReadOnlyList<double> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var score = 0.0;
        foreach (var row in scores)
        {
            if (double.IsNaN(row))
            {
                return double.NaN;
            }

            score = Math.Max(score, row);
        }

        return score;
    }

    /// <summary>Each value rounded to one of 2^<paramref name="bits"/> evenly spaced levels over 0..<paramref name="max"/> (values outside are clamped first).</summary>
    public static void BitDepth(ReadOnlySpan<float> row, Span<float> into, int bits, double max)
    {
        var levels = (1 << bits) - 1;
        for (var i = 0; i < row.Length; i++)
        {
            var unit = Math.Clamp(row[i] / max, 0.0, 1.0);
            into[i] = (float)(Math.Round(unit * levels, MidpointRounding.AwayFromZero) / levels * max);
        }
    }

    /// <summary>
    /// A <paramref name="size"/>×<paramref name="size"/> median filter over a row-major <paramref name="height"/>×<paramref name="width"/>
    /// image; the window spans offsets −size/2 .. (size−1)/2 (for 2: the pixel, the one above and the one to the left),
    /// edges replicated; an even count takes the mean of the two middle values.
    /// </summary>
    public static void Median(ReadOnlySpan<float> row, Span<float> into, int height, int width, int size)
    {
        Span<float> window = stackalloc float[size * size];
        var low = -(size / 2);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var k = 0;
                for (var dy = 0; dy < size; dy++)
                {
                    var yy = Math.Clamp(y + low + dy, 0, height - 1);
                    for (var dx = 0; dx < size; dx++)
                    {
                        var xx = Math.Clamp(x + low + dx, 0, width - 1);
                        window[k++] = row[(yy * width) + xx];
                    }
                }

                window.Sort();
                var count = window.Length;
                into[(y * width) + x] = count % 2 == 1 ? window[count / 2] : (window[(count / 2) - 1] + window[count / 2]) / 2;
            }
        }
    }
}
