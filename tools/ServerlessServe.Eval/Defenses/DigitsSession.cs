using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// The digits sample as built (<see cref="DigitsSample.BuildModel()"/>) in a real ONNX Runtime session, with the
/// inference app's session settings (all graph optimisations, sequential execution) on one intra-op thread. Everything
/// the evaluation predicts or scores goes through <see cref="Run"/>; feature squeezing goes through the same Core calls
/// as the inference app's <c>RunModel</c> stage (<see cref="FeatureSqueezing.Batch"/>, one run,
/// <see cref="FeatureSqueezing.Scores"/>). Runs may be made from several threads at once (ONNX Runtime sessions are thread-safe).
/// </summary>
internal sealed class DigitsSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    /// <param name="model">ONNX bytes of a digits model; the sample as built when null.</param>
    public DigitsSession(byte[]? model = null)
    {
        Onnx.OnnxRuntimeTelemetry.Disable();
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        Model = model ?? DigitsSample.BuildModel();
        _session = new InferenceSession(Model, options);
    }

    /// <summary>The model's bytes.</summary>
    public byte[] Model { get; }

    /// <summary>One session run on <paramref name="rows"/> rows of 64 pixel counts: the probabilities, [rows, 10] row-major.</summary>
    public float[] Run(float[] batch, int rows)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (rows < 1 || batch.Length != rows * DigitsData.PixelCount)
        {
            throw new ArgumentException("The batch must hold rows × 64 values.", nameof(batch));
        }

        using var input = OrtValue.CreateTensorValueFromMemory(batch, [rows, DigitsData.PixelCount]);
        using var outputs = _session.Run(_runOptions, [DigitsSample.InputName], [input], [DigitsSample.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>The most probable digit of each row (the lowest on a tie), from one run.</summary>
    public IReadOnlyList<int> Predict(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return [];
        }

        var probabilities = Run(Flatten(rows), rows.Count);
        var predictions = new int[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            predictions[r] = ArgMax(probabilities.AsSpan(r * DigitsData.ClassCount, DigitsData.ClassCount));
        }

        return predictions;
    }

    /// <summary>
    /// Each row's feature-squeezing score under <paramref name="policy"/>, as the inference app computes it: the rows
    /// and their squeezed copies in one batch, one run, then the largest L1 distance per row. A row's score does not
    /// depend on the other rows (the model works row by row), so this is each row's score as a request of its own.
    /// </summary>
    public double[] SqueezeScores(IReadOnlyList<float[]> rows, SqueezePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(policy);
        if (rows.Count == 0)
        {
            return [];
        }

        var batch = FeatureSqueezing.Batch(Flatten(rows), DigitsData.PixelCount, policy);
        var predictions = Run(batch, rows.Count * (1 + policy.Squeezers.Count));
        return FeatureSqueezing.Scores(predictions, rows.Count, DigitsData.ClassCount, policy.Squeezers.Count);
    }

    /// <summary>Rows of 64 values laid end to end, [rows, 64] row-major.</summary>
    public static float[] Flatten(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var flat = new float[rows.Count * DigitsData.PixelCount];
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].Length != DigitsData.PixelCount)
            {
                throw new ArgumentException("Every row has 64 values.", nameof(rows));
            }

            rows[r].CopyTo(flat, r * DigitsData.PixelCount);
        }

        return flat;
    }

    /// <summary>Releases the session.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
