using System.Numerics;
using System.Runtime.InteropServices;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// PRADA's growing sets of all classes in one fixed pool: up to <see cref="Capacity"/> stored queries, each with its
/// class and the sequence number of the query that added it (its age). Slots are unordered (a removal moves the last
/// slot into the hole); age decides every eviction. Values are rounded to half precision when stored and kept twice: as
/// floats for the distances and as half-precision bits for the state's binary form, so saving copies 2 bytes per value
/// without converting and without changing a single distance.
/// </summary>
internal sealed class GrowingSet
{
    /// <summary>The largest magnitude a half-precision value holds; stored values are clamped to it.</summary>
    public const float HalfMax = 65504f;

    private readonly float[] _vectors;
    private readonly ushort[] _halves;
    private readonly int[] _labels;
    private readonly long[] _sequences;

    /// <summary>An empty pool of <paramref name="capacity"/> vectors of <paramref name="dimension"/> values.</summary>
    public GrowingSet(int capacity, int dimension)
    {
        Capacity = capacity;
        Dimension = dimension;
        _vectors = new float[capacity * dimension];
        _halves = new ushort[capacity * dimension];
        _labels = new int[capacity];
        _sequences = new long[capacity];
    }

    /// <summary>Most vectors held.</summary>
    public int Capacity { get; }

    /// <summary>Values per vector.</summary>
    public int Dimension { get; }

    /// <summary>Vectors held.</summary>
    public int Count { get; private set; }

    /// <summary>The vector in <paramref name="slot"/>.</summary>
    public ReadOnlySpan<float> VectorAt(int slot) => _vectors.AsSpan(slot * Dimension, Dimension);

    /// <summary>The vector in <paramref name="slot"/> as IEEE half-precision bits.</summary>
    public ReadOnlySpan<ushort> HalvesAt(int slot) => _halves.AsSpan(slot * Dimension, Dimension);

    /// <summary>The class of the vector in <paramref name="slot"/>.</summary>
    public int Label(int slot) => _labels[slot];

    /// <summary>The sequence number (age) of the vector in <paramref name="slot"/>.</summary>
    public long Sequence(int slot) => _sequences[slot];

    /// <summary>
    /// The smallest Euclidean distance from <paramref name="query"/> (values within ±<see cref="HalfMax"/>, so the sum
    /// cannot overflow) to a stored vector of class <paramref name="label"/>, or null when the class has none.
    /// </summary>
    public double? NearestDistance(int label, ReadOnlySpan<float> query)
    {
        var best = float.PositiveInfinity;
        var found = false;
        for (var slot = 0; slot < Count; slot++)
        {
            if (_labels[slot] == label)
            {
                best = Math.Min(best, SquaredDistance(VectorAt(slot), query));
                found = true;
            }
        }

        return found ? Math.Sqrt(best) : null;
    }

    /// <summary>
    /// Whether a stored vector of class <paramref name="label"/> equals <paramref name="rounded"/>, a query already
    /// rounded to half precision (as floats): value for value, a negative zero equal to zero.
    /// </summary>
    public bool Contains(int label, ReadOnlySpan<float> rounded)
    {
        for (var slot = 0; slot < Count; slot++)
        {
            if (_labels[slot] == label && Equal(VectorAt(slot), rounded))
            {
                return true;
            }
        }

        return false;
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

    /// <summary>Stores <paramref name="vector"/>, rounded to half precision (clamped to ±<see cref="HalfMax"/>), as class <paramref name="label"/>.</summary>
    /// <exception cref="InvalidOperationException">The pool is full.</exception>
    public void Add(int label, long sequence, ReadOnlySpan<float> vector)
    {
        var slot = Claim(label, sequence);
        var floats = _vectors.AsSpan(slot * Dimension, Dimension);
        var halves = _halves.AsSpan(slot * Dimension, Dimension);
        for (var i = 0; i < Dimension; i++)
        {
            var half = (Half)Math.Clamp(vector[i], -HalfMax, HalfMax);
            halves[i] = BitConverter.HalfToUInt16Bits(half);
            floats[i] = (float)half;
        }
    }

    /// <summary>Stores a vector given as finite half-precision bits (a saved state) as class <paramref name="label"/>.</summary>
    /// <exception cref="InvalidOperationException">The pool is full.</exception>
    public void AddHalves(int label, long sequence, ReadOnlySpan<ushort> vector)
    {
        var slot = Claim(label, sequence);
        var floats = _vectors.AsSpan(slot * Dimension, Dimension);
        vector.CopyTo(_halves.AsSpan(slot * Dimension, Dimension));
        for (var i = 0; i < Dimension; i++)
        {
            floats[i] = (float)BitConverter.UInt16BitsToHalf(vector[i]);
        }
    }

    /// <summary>True for half-precision bits of a finite value (exponent not all ones).</summary>
    public static bool IsFiniteHalf(ushort bits) => (bits & 0x7C00) != 0x7C00;

    /// <summary>Removes the vector in <paramref name="slot"/>; the last slot's vector moves into it.</summary>
    public void RemoveAt(int slot)
    {
        var last = Count - 1;
        if (slot != last)
        {
            _vectors.AsSpan(last * Dimension, Dimension).CopyTo(_vectors.AsSpan(slot * Dimension, Dimension));
            _halves.AsSpan(last * Dimension, Dimension).CopyTo(_halves.AsSpan(slot * Dimension, Dimension));
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

    // Takes the next free slot for a vector and returns it.
    private int Claim(int label, long sequence)
    {
        if (Count == Capacity)
        {
            throw new InvalidOperationException("The growing set is full; evict first.");
        }

        _labels[Count] = label;
        _sequences[Count] = sequence;
        return Count++;
    }

    // Value for value, as floats compare (so -0 equals 0; no NaN is ever stored).
    private static bool Equal(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
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

