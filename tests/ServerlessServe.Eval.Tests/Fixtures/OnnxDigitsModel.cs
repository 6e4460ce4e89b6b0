using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Fixtures;

/// <summary>
/// The digits sample as built (<see cref="DigitsSample.BuildModel()"/>) in a real ONNX Runtime session (CPU, one
/// thread), shared by the tests of a class. Its <see cref="Predict"/> is the classifier that judges attacks.
/// </summary>
public sealed class OnnxDigitsModel : IDisposable
{
    private readonly InferenceSession _session;

    public OnnxDigitsModel()
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(DigitsSample.BuildModel(), options);
    }

    /// <summary>The probabilities ONNX Runtime computes, one array of 10 per row.</summary>
    public IReadOnlyList<float[]> Probabilities(IReadOnlyList<float[]> rows)
    {
        var input = new float[rows.Count * DigitsData.PixelCount];
        for (var r = 0; r < rows.Count; r++)
        {
            rows[r].CopyTo(input, r * DigitsData.PixelCount);
        }

        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [rows.Count, DigitsData.PixelCount]);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [DigitsSample.InputName], [tensor], [DigitsSample.OutputName]);
        var output = outputs[0].GetTensorDataAsSpan<float>();
        var probabilities = new float[rows.Count][];
        for (var r = 0; r < rows.Count; r++)
        {
            probabilities[r] = output.Slice(r * DigitsData.ClassCount, DigitsData.ClassCount).ToArray();
        }

        return probabilities;
    }

    /// <summary>The most probable digit of each row according to ONNX Runtime (the lowest on a tie).</summary>
    public IReadOnlyList<int> Predict(IReadOnlyList<float[]> rows) =>
        Probabilities(rows).Select(p => Array.IndexOf(p, p.Max())).ToArray();

    public void Dispose() => _session.Dispose();
}
