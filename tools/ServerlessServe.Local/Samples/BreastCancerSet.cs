namespace ServerlessServe.Local.Samples;

/// <summary>
/// Rows of the breast-cancer data: 30 real-valued measurements of cell nuclei and the diagnosis (0 = malignant,
/// 1 = benign). Immutable, so one loaded copy can be shared; <see cref="Row"/> hands out copies.
/// </summary>
public sealed class BreastCancerSet
{
    private readonly double[] _features;
    private readonly int[] _labels;

    internal BreastCancerSet(double[] features, int[] labels)
    {
        if (features.Length != labels.Length * BreastCancerData.FeatureCount)
        {
            throw new ArgumentException("Features and labels disagree on the row count.", nameof(features));
        }

        _features = features;
        _labels = labels;
    }

    /// <summary>Number of rows.</summary>
    public int Count => _labels.Length;

    /// <summary>All features, row-major [<see cref="Count"/>, 30], as in the file.</summary>
    public ReadOnlyMemory<double> Features => _features;

    /// <summary>The diagnosis of each row: 0 malignant, 1 benign.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>A copy of the 30 features of row <paramref name="index"/>.</summary>
    public double[] Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _features.AsSpan(index * BreastCancerData.FeatureCount, BreastCancerData.FeatureCount).ToArray();
    }
}
