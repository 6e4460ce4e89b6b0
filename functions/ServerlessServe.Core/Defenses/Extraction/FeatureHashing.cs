namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Signed feature hashing (Weinberger et al., "Feature Hashing for Large Scale Multitask Learning", 2009): feature i of
/// a long input is added, with sign s(i) = ±1, to bucket h(i) of a shorter vector. With h and s independent and evenly
/// spread, the reduced squared distance between two inputs equals the original one in expectation, and its relative
/// spread shrinks as more features share each bucket, so PRADA's distances keep their meaning while the stored vectors
/// stay short. h and s come from one fixed hash of the index, so every instance reduces alike; a table of them per input
/// length (<see cref="Table"/>) spares the hash on every query.
/// </summary>
internal static class FeatureHashing
{
    // Any fixed value; it only decorrelates these hashes from other uses of SplitMix64 here.
    private const ulong Salt = 0x5052414441_0001UL;

    /// <summary>
    /// For each of <paramref name="inputLength"/> features, its bucket among <paramref name="outputLength"/> (low 31
    /// bits) and its sign (the top bit: set for −1).
    /// </summary>
    public static int[] Table(int inputLength, int outputLength)
    {
        var table = new int[inputLength];
        for (var i = 0; i < table.Length; i++)
        {
            var hash = SplitMix64.Mix((ulong)i + Salt);
            var bucket = (int)(((hash >> 32) * (ulong)outputLength) >> 32);
            table[i] = (hash & 1) == 0 ? bucket : bucket | int.MinValue;
        }

        return table;
    }

    /// <summary>
    /// Writes the reduction of <paramref name="input"/> into <paramref name="output"/> (shorter or equal; equal copies)
    /// using <paramref name="table"/> from <see cref="Table"/> for these lengths (unused when the lengths are equal).
    /// Input values and results are clamped to ±<see cref="GrowingSet.HalfMax"/> (the range stored queries keep), so
    /// nothing computed from a query can overflow. Returns false, leaving <paramref name="output"/> unspecified, when an
    /// input value is NaN or infinite.
    /// </summary>
    public static bool TryReduce(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<int> table)
    {
        foreach (var value in input)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        if (input.Length == output.Length)
        {
            for (var i = 0; i < input.Length; i++)
            {
                output[i] = Math.Clamp(input[i], -GrowingSet.HalfMax, GrowingSet.HalfMax);
            }

            return true;
        }

        output.Clear();
        for (var i = 0; i < input.Length; i++)
        {
            var entry = table[i];
            var value = Math.Clamp(input[i], -GrowingSet.HalfMax, GrowingSet.HalfMax);
            output[entry & int.MaxValue] += BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value) ^ (entry & int.MinValue));
        }

        for (var i = 0; i < output.Length; i++)
        {
            output[i] = Math.Clamp(output[i], -GrowingSet.HalfMax, GrowingSet.HalfMax);
        }

        return true;
    }
}
