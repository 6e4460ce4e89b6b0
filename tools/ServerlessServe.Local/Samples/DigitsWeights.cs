namespace ServerlessServe.Local.Samples;

/// <summary>
/// The weights of the <c>digits</c> model, a one-hidden-layer perceptron over raw pixel counts, with the same forward
/// pass the ONNX graph runs and the analytic gradient of its loss with respect to the input (white-box access for
/// attacks):
/// <c>s = pixels · (1/16)</c>, <c>h = ReLU(s·W1 + B1)</c>, <c>probabilities = Softmax(h·W2 + B2)</c>.
/// Matrices are row-major: <see cref="W1"/> is [64, <see cref="Hidden"/>], <see cref="W2"/> is [<see cref="Hidden"/>, 10].
/// </summary>
public sealed record DigitsWeights
{
    /// <summary>What the graph multiplies raw pixel counts by (1/16, exact in binary).</summary>
    public const float PixelScale = 1f / DigitsData.MaxPixel;

    public DigitsWeights(int hidden, float[] w1, float[] b1, float[] w2, float[] b2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentNullException.ThrowIfNull(w1);
        ArgumentNullException.ThrowIfNull(b1);
        ArgumentNullException.ThrowIfNull(w2);
        ArgumentNullException.ThrowIfNull(b2);
        if (w1.Length != DigitsData.PixelCount * hidden || b1.Length != hidden
            || w2.Length != hidden * DigitsData.ClassCount || b2.Length != DigitsData.ClassCount)
        {
            throw new ArgumentException("Weight shapes do not match 64 → hidden → 10.", nameof(w1));
        }

        Hidden = hidden;
        W1 = w1.ToArray();
        B1 = b1.ToArray();
        W2 = w2.ToArray();
        B2 = b2.ToArray();
    }

    /// <summary>Hidden units.</summary>
    public int Hidden { get; }

    /// <summary>Input to hidden weights, [64, <see cref="Hidden"/>].</summary>
    public ReadOnlyMemory<float> W1 { get; }

    /// <summary>Hidden bias, [<see cref="Hidden"/>].</summary>
    public ReadOnlyMemory<float> B1 { get; }

    /// <summary>Hidden to output weights, [<see cref="Hidden"/>, 10].</summary>
    public ReadOnlyMemory<float> W2 { get; }

    /// <summary>Output bias, [10].</summary>
    public ReadOnlyMemory<float> B2 { get; }

    /// <summary>The ten class probabilities for one row of 64 raw pixel counts (computed in double).</summary>
    public float[] Probabilities(ReadOnlySpan<float> pixels) =>
        Array.ConvertAll(Softmax(Logits(pixels, out _)), p => (float)p);

    /// <summary>The most probable digit (the lowest on a tie).</summary>
    public int Predict(ReadOnlySpan<float> pixels)
    {
        var logits = Logits(pixels, out _);
        var best = 0;
        for (var c = 1; c < logits.Length; c++)
        {
            if (logits[c] > logits[best])
            {
                best = c;
            }
        }

        return best;
    }

    /// <summary>Cross-entropy loss −ln p[<paramref name="label"/>] of one row (as log-sum-exp, finite however confident).</summary>
    public double Loss(ReadOnlySpan<float> pixels, int label)
    {
        CheckLabel(label);
        var logits = Logits(pixels, out _);
        var max = logits.Max();
        var total = 0.0;
        foreach (var z in logits)
        {
            total += Math.Exp(z - max);
        }

        return max + Math.Log(total) - logits[label];
    }

    /// <summary>
    /// ∂Loss/∂pixels for one row, in raw pixel units: with δ = p − onehot(label),
    /// ∂L/∂h = W2·δ, ∂L/∂z1 = ∂L/∂h where z1 &gt; 0 (else 0), ∂L/∂s = W1·∂L/∂z1 and ∂L/∂pixels = ∂L/∂s / 16.
    /// At a ReLU kink (z1 = 0) the subgradient 0 is used.
    /// </summary>
    public float[] InputGradient(ReadOnlySpan<float> pixels, int label)
    {
        CheckLabel(label);
        var probabilities = Softmax(Logits(pixels, out var preActivation));
        var w1 = W1.Span;
        var w2 = W2.Span;
        var delta = probabilities;
        delta[label] -= 1.0;

        var hiddenGradient = new double[Hidden];
        for (var j = 0; j < Hidden; j++)
        {
            if (preActivation[j] <= 0.0)
            {
                continue;
            }

            var sum = 0.0;
            for (var c = 0; c < DigitsData.ClassCount; c++)
            {
                sum += w2[(j * DigitsData.ClassCount) + c] * delta[c];
            }

            hiddenGradient[j] = sum;
        }

        var gradient = new float[DigitsData.PixelCount];
        for (var i = 0; i < DigitsData.PixelCount; i++)
        {
            var sum = 0.0;
            for (var j = 0; j < Hidden; j++)
            {
                sum += w1[(i * Hidden) + j] * hiddenGradient[j];
            }

            gradient[i] = (float)(sum * PixelScale);
        }

        return gradient;
    }

    private double[] Logits(ReadOnlySpan<float> pixels, out double[] preActivation)
    {
        if (pixels.Length != DigitsData.PixelCount)
        {
            throw new ArgumentException("A row has 64 pixels.", nameof(pixels));
        }

        var w1 = W1.Span;
        var b1 = B1.Span;
        var w2 = W2.Span;
        var b2 = B2.Span;
        preActivation = new double[Hidden];
        for (var j = 0; j < Hidden; j++)
        {
            preActivation[j] = b1[j];
        }

        for (var i = 0; i < DigitsData.PixelCount; i++)
        {
            var scaled = (double)(pixels[i] * PixelScale);
            if (scaled == 0.0)
            {
                continue;
            }

            for (var j = 0; j < Hidden; j++)
            {
                preActivation[j] += scaled * w1[(i * Hidden) + j];
            }
        }

        var output = new double[DigitsData.ClassCount];
        for (var c = 0; c < DigitsData.ClassCount; c++)
        {
            output[c] = b2[c];
        }

        for (var j = 0; j < Hidden; j++)
        {
            var activation = Math.Max(preActivation[j], 0.0);
            for (var c = 0; c < DigitsData.ClassCount; c++)
            {
                output[c] += activation * w2[(j * DigitsData.ClassCount) + c];
            }
        }

        return output;
    }

    private static double[] Softmax(double[] logits)
    {
        var max = logits.Max();
        var probabilities = new double[logits.Length];
        var total = 0.0;
        for (var c = 0; c < logits.Length; c++)
        {
            probabilities[c] = Math.Exp(logits[c] - max);
            total += probabilities[c];
        }

        for (var c = 0; c < logits.Length; c++)
        {
            probabilities[c] /= total;
        }

        return probabilities;
    }

    private static void CheckLabel(int label)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(label);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(label, DigitsData.ClassCount);
    }
}
