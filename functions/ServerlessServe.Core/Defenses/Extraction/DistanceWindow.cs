namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// The most recent minimum distances (PRADA's set D): a ring of fixed capacity that drops the oldest first, mirrored by
/// the same values in ascending order. The ordered copy costs one binary search and one block move per update (at most
/// <see cref="Capacity"/> floats moved) and spares the Shapiro–Wilk test its sort, so the test is one pass over the
/// window.
/// </summary>
internal sealed class DistanceWindow(int capacity)
{
    private readonly float[] _values = new float[capacity];
    private readonly float[] _sorted = new float[capacity];
    private int _start;

    /// <summary>Most distances held.</summary>
    public int Capacity => _values.Length;

    /// <summary>Distances held.</summary>
    public int Count { get; private set; }

    /// <summary>The distances held, ascending.</summary>
    public ReadOnlySpan<float> Sorted => _sorted.AsSpan(0, Count);

    /// <summary>The distance at <paramref name="index"/>, 0 being the oldest.</summary>
    public float this[int index] => _values[(_start + index) % _values.Length];

    /// <summary>Appends <paramref name="distance"/> (finite), dropping the oldest when full.</summary>
    public void Add(float distance)
    {
        if (Count < _values.Length)
        {
            _values[(_start + Count) % _values.Length] = distance;
            Count++;
        }
        else
        {
            RemoveSorted(_values[_start]);
            _values[_start] = distance;
            _start = (_start + 1) % _values.Length;
        }

        InsertSorted(distance);
    }

    // The ordered copy holds Count - 1 values when these run: Add has counted the new one already (or removed the old).
    private void InsertSorted(float value)
    {
        var held = Count - 1;
        var index = _sorted.AsSpan(0, held).BinarySearch(value);
        if (index < 0)
        {
            index = ~index;
        }

        _sorted.AsSpan(index, held - index).CopyTo(_sorted.AsSpan(index + 1));
        _sorted[index] = value;
    }

    private void RemoveSorted(float value)
    {
        var index = _sorted.AsSpan(0, Count).BinarySearch(value);
        _sorted.AsSpan(index + 1, Count - index - 1).CopyTo(_sorted.AsSpan(index));
    }
}
