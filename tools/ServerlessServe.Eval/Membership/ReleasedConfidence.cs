using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Eval.Membership;

/// <summary>
/// What a caller can read off a released score output about its rows, whatever form the policy released it in (all
/// scores, the top k with their classes, or the label only): its confidence in a given class and its top score.
/// </summary>
public sealed class ReleasedConfidence
{
    private readonly double[]? _scores;
    private readonly long[]? _classes;
    private readonly long[]? _labels;
    private readonly int _width;

    /// <summary>Reads the output named <paramref name="name"/> (and <c>{name}_classes</c> for top-k) from <paramref name="released"/>.</summary>
    public ReleasedConfidence(IReadOnlyList<Tensor> released, string name)
    {
        ArgumentNullException.ThrowIfNull(released);
        var output = released.FirstOrDefault(t => t.Name == name) ?? throw new InvalidOperationException($"No released output {name}.");
        if (output.DataType == TensorDataType.Int64)
        {
            _labels = (long[])output.Data;
            return;
        }

        _scores = output.Data switch
        {
            float[] f => Array.ConvertAll(f, v => (double)v),
            double[] d => d,
            Half[] h => Array.ConvertAll(h, v => (double)v),
            _ => throw new InvalidOperationException("The released scores are not floating point."),
        };
        _width = (int)output.Shape[^1];
        _classes = (long[]?)released.FirstOrDefault(t => t.Name == name + "_classes")?.Data;
        if (_classes is not null && _classes.Length != _scores.Length)
        {
            throw new InvalidOperationException("The released scores and classes disagree.");
        }
    }

    /// <summary>Whether only labels were released.</summary>
    public bool LabelOnly => _labels is not null;

    /// <summary>
    /// The released confidence of row <paramref name="row"/> in class <paramref name="label"/>: its released score; 0
    /// when top-k leaves the class out (it scores below every released class); for a label-only output, 1 when the
    /// label is the class and 0 otherwise.
    /// </summary>
    public double Of(int row, int label)
    {
        if (_labels is not null)
        {
            return _labels[row] == label ? 1.0 : 0.0;
        }

        for (var j = 0; j < _width; j++)
        {
            var index = (row * _width) + j;
            if ((_classes is null ? j : _classes[index]) == label)
            {
                return _scores![index];
            }
        }

        return 0.0;
    }

    /// <summary>The highest released score of row <paramref name="row"/> (no label needed); null when only labels were released.</summary>
    public double? Top(int row) => _scores is null ? null : _scores.AsSpan(row * _width, _width).ToArray().Max();
}
