using System.Numerics;
using System.Runtime.InteropServices;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// PRADA's growing sets of all classes in one fixed pool: up to <see cref="Capacity"/> stored queries, each with its
/// class and the sequence number of the query that added it (its age). Slots are unordered (a removal moves the last
/// slot into the hole); age decides every eviction. Values are rounded to half precision when stored, so the state
/// serialises them in 2 bytes each without changing a single distance.
/// </summary>
internal sealed class GrowingSet
{
    private readonly float[] _vectors;
    private readonly int[] _labels;
    private readonly long[] _sequences;

    /// <summary>An empty pool of <paramref name="capacity"/> vectors of <paramref name="dimension"/> values.</summary>
    public GrowingSet(int capacity, int dimension)
    {
        Capacity = capacity;
        Dimension = dimension;
        _vectors = new float[capacity * dimension];
        _labels = new int[capacity];
        _sequences = new long[capacity];
    }

    /// <summary>Most vectors held.</summary>
    public int Capacity { get; }

    /// <summary>Values per vector.</summary>
    public int Dimension { get; }

    /// <summary>Vectors held.</summary>
    public int Count { get; private set; }

    /// <summary>The largest magnitude a half-precision value holds; stored values are clamped to it.</summary>
    public const float HalfMax = 65504f;

    /// <summary>The vector in <paramref name="slot"/>.</summary>
    public ReadOnlySpan<float> VectorAt(int slot) => _vectors.AsSpan(slot * Dimension, Dimension);

    /// <summary>The class of the vector in <paramref name="slot"/>.</summary>
    public int Label(int slot) => _labels[slot];

    /// <summary>The sequence number (age) of the vector in <paramref name="slot"/>.</summary>
    public long Sequence(int slot) => _sequences[slot];

    /// <summary>
    /// The smallest Euclidean distance from <paramref name="query"/> to a stored vector of class <paramref name="label"/>,
    /// or positive infinity when the class has none.
    /// </summary>
    public double NearestDistance(int label, ReadOnlySpan<float> query)
    {
        var best = float.PositiveInfinity;
        for (var slot = 0; slot < Count; slot++)
        {
            if (_labels[slot] == label)
            {
                best = Math.Min(best, SquaredDistance(VectorAt(slot), query));
            }
        }

        return Math.Sqrt(best);
    }

    /// <summary>The slot of the oldest vector, of class <paramref name="label"/> when given; -1 when there is none.</summary>
    public int OldestSlot(int? label = null)
    {
        var oldest = -1;
        for (var slot = 0; slot < Count; slot++)
        {
            if ((label is null || _labels[slot] == label) && (oldest < 0 || _sequences[slot] < _sequences[oldest]))
            {
                oldest = slot;
            }
        }

        return oldest;
    }

    /// <summary>Stores <paramref name="vector"/> (rounded to half precision) as class <paramref name="label"/>.</summary>
    /// <exception cref="InvalidOperationException">The pool is full.</exception>
    public void Add(int label, long sequence, ReadOnlySpan<float> vector)
    {
        if (Count == Capacity)
        {
            throw new InvalidOperationException("The growing set is full; evict first.");
        }

        var target = _vectors.AsSpan(Count * Dimension, Dimension);
        for (var i = 0; i < Dimension; i++)
        {
            target[i] = (float)(Half)Math.Clamp(vector[i], -HalfMax, HalfMax);
        }

        _labels[Count] = label;
        _sequences[Count] = sequence;
        Count++;
    }

    /// <summary>Removes the vector in <paramref name="slot"/>; the last slot's vector moves into it.</summary>
    public void RemoveAt(int slot)
    {
        var last = Count - 1;
        if (slot != last)
        {
            _vectors.AsSpan(last * Dimension, Dimension).CopyTo(_vectors.AsSpan(slot * Dimension, Dimension));
            _labels[slot] = _labels[last];
            _sequences[slot] = _sequences[last];
        }

        Count--;
    }

    /// <summary>Slots in ascending age order (oldest first): the order the state serialises them in.</summary>
    public int[] SlotsOldestFirst()
    {
        var slots = new int[Count];
        for (var i = 0; i < slots.Length; i++)
        {
            slots[i] = i;
        }

        var keys = _sequences.AsSpan(0, Count).ToArray();
        Array.Sort(keys, slots);
        return slots;
    }

    // Vectorised sum of squared differences; the tail that does not fill a vector is summed one by one.
    private static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var total = 0f;
        if (System.Numerics.Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var sums = Vector<float>.Zero;
            var left = MemoryMarshal.Cast<float, Vector<float>>(a);
            var right = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (var v = 0; v < left.Length; v++)
            {
                var difference = left[v] - right[v];
                sums += difference * difference;
            }

            total = System.Numerics.Vector.Sum(sums);
            i = left.Length * Vector<float>.Count;
        }

        for (; i < a.Length; i++)
        {
            var difference = a[i] - b[i];
            total += difference * difference;
        }

        return total;
    }
}

