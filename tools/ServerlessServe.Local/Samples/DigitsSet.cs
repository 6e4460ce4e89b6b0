namespace ServerlessServe.Local.Samples;

/// <summary>
/// Rows of the handwritten-digits data: 64 raw pixel counts (0..16, an 8×8 image row by row) and the digit each shows.
/// Immutable, so one loaded copy can be shared; <see cref="Row"/> hands out copies.
/// </summary>
public sealed class DigitsSet
{
    private readonly float[] _pixels;
    private readonly int[] _labels;
    private readonly int[] _fileRows;

    internal DigitsSet(float[] pixels, int[] labels, int[] fileRows)
    {
        if (pixels.Length != labels.Length * DigitsData.PixelCount || fileRows.Length != labels.Length)
        {
            throw new ArgumentException("Pixels, labels and file rows disagree on the row count.", nameof(pixels));
        }

        _pixels = pixels;
        _labels = labels;
        _fileRows = fileRows;
    }

    /// <summary>Number of rows.</summary>
    public int Count => _labels.Length;

    /// <summary>All pixels, row-major [<see cref="Count"/>, 64]: the shape of the <c>digits</c> model's input.</summary>
    public ReadOnlyMemory<float> Pixels => _pixels;

    /// <summary>The digit (0..9) of each row.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>Where each row comes from: its 0-based line in <c>digits.csv</c>.</summary>
    public IReadOnlyList<int> FileRows => _fileRows;

    /// <summary>A copy of the 64 pixels of row <paramref name="index"/>.</summary>
    public float[] Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return _pixels.AsSpan(index * DigitsData.PixelCount, DigitsData.PixelCount).ToArray();
    }

    /// <summary>Copies of every row, in order (for the attack and evaluation code, which works row by row).</summary>
    public IReadOnlyList<float[]> Rows() => Enumerable.Range(0, Count).Select(Row).ToArray();
}
