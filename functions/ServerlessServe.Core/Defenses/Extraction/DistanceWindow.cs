namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>The most recent minimum distances (PRADA's set D), a ring of fixed capacity that drops the oldest first.</summary>
internal sealed class DistanceWindow(int capacity)
{
    private readonly float[] _values = new float[capacity];
    private int _start;

    /// <summary>Most distances held.</summary>
    public int Capacity => _values.Length;

    /// <summary>Distances held.</summary>
    public int Count { get; private set; }

    /// <summary>Appends <paramref name="distance"/>, dropping the oldest when full.</summary>
    public void Add(float distance)
    {
        if (Count < _values.Length)
        {
            _values[(_start + Count) % _values.Length] = distance;
            Count++;
        }
        else
        {
            _values[_start] = distance;
            _start = (_start + 1) % _values.Length;
        }
    }

    /// <summary>The distance at <paramref name="index"/>, 0 being the oldest.</summary>
    public float this[int index] => _values[(_start + index) % _values.Length];

    /// <summary>Copies the distances, oldest first, into <paramref name="destination"/> (at least <see cref="Count"/> long).</summary>
    public void CopyTo(Span<double> destination)
    {
        for (var i = 0; i < Count; i++)
        {
            destination[i] = this[i];
        }
    }
}
