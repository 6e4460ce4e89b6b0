using ServerlessServe.Eval.Extraction;

namespace ServerlessServe.Eval.Tests.Extraction;

/// <summary>An oracle that answers with <paramref name="predict"/> and keeps every query, in order.</summary>
internal sealed class RecordingOracle(Func<float[], int> predict, int budget) : IQueryOracle
{
    public List<float[]> Queries { get; } = [];

    public List<int> Labels { get; } = [];

    public int Remaining => budget - Queries.Count;

    public int Query(float[] row)
    {
        if (Remaining <= 0)
        {
            throw new InvalidOperationException("Over budget.");
        }

        Queries.Add((float[])row.Clone());
        var label = predict(row);
        Labels.Add(label);
        return label;
    }
}
