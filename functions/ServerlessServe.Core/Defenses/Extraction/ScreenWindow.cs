namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// The out-of-distribution signal's state: for each of the caller's latest screened rows, whether the model's OOD
/// screen flagged it — one bit per row in a ring of fixed capacity, the oldest row dropping out first — and how many of
/// the rows held are flagged. At most <see cref="Capacity"/> / 8 bytes whatever the caller sends.
/// </summary>
internal sealed class ScreenWindow
{
    private readonly ulong[] _bits;
    private int _start;

    /// <summary>An empty window of <paramref name="capacity"/> rows.</summary>
    public ScreenWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _bits = new ulong[Words(capacity)];
    }

    /// <summary>Most rows held.</summary>
    public int Capacity { get; }

    /// <summary>Rows held.</summary>
    public int Count { get; private set; }

    /// <summary>Rows held that the screen flagged.</summary>
    public int Flagged { get; private set; }

    /// <summary>Whether the row at <paramref name="index"/> (0 the oldest held) was flagged.</summary>
    public bool this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return Get((_start + index) % Capacity);
        }
    }

    /// <summary>64-bit words that hold <paramref name="rows"/> bits.</summary>
    public static int Words(int rows) => (rows + 63) / 64;

    /// <summary>Appends one row, dropping the oldest when full.</summary>
    public void Add(bool flagged)
    {
        int slot;
        if (Count < Capacity)
        {
            slot = (_start + Count) % Capacity;
            Count++;
        }
        else
        {
            slot = _start;
            if (Get(slot))
            {
                Flagged--;
            }

            _start = (_start + 1) % Capacity;
        }

        var mask = 1UL << (slot & 63);
        if (flagged)
        {
            _bits[slot >> 6] |= mask;
            Flagged++;
        }
        else
        {
            _bits[slot >> 6] &= ~mask;
        }
    }

    /// <summary>
    /// Appends a request's <paramref name="rows"/> rows, <paramref name="flaggedRows"/> of them flagged. A request says
    /// how many of its rows were flagged, not which, so the flagged ones are spread evenly over its rows: whatever part
    /// of the request stays in the window holds about the request's share. Costs at most <see cref="Capacity"/> steps,
    /// however many rows (the earlier ones would only drop out again).
    /// </summary>
    public void Add(int rows, int flaggedRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(flaggedRows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(flaggedRows, rows);
        for (var i = Math.Max(0, rows - Capacity); i < rows; i++)
        {
            // Row i is flagged when ⌊(i + 1)·f / r⌋ passes ⌊i·f / r⌋: f of the r rows, evenly apart.
            Add(((i + 1L) * flaggedRows / rows) > (i * (long)flaggedRows / rows));
        }
    }

    private bool Get(int slot) => ((_bits[slot >> 6] >> (slot & 63)) & 1UL) != 0;
}
