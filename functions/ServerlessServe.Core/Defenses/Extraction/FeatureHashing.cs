namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Signed feature hashing (Weinberger et al., "Feature Hashing for Large Scale Multitask Learning", 2009): feature i of
/// a long input is added, with sign s(i) = ±1, to bucket h(i) of a shorter vector. With h and s independent and evenly
/// spread, the reduced squared distance between two inputs equals the original one in expectation, and its relative
/// spread shrinks as more features share each bucket, so PRADA's distances keep their meaning while the stored vectors
/// stay short. h and s come from one fixed hash of the index, so every instance reduces alike.
/// </summary>
internal static class FeatureHashing
{
    // Any fixed value; it only decorrelates these hashes from other uses of SplitMix64 here.
    private const ulong Salt = 0x5052414441_0001UL;

    /// <summary>
    /// Writes the reduction of <paramref name="input"/> into <paramref name="output"/> (shorter or equal; equal copies).
    /// Returns false, leaving <paramref name="output"/> unspecified, when an input value is NaN or infinite.
    /// </summary>
    public static bool TryReduce(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length == output.Length)
        {
            foreach (var value in input)
            {
                if (!float.IsFinite(value))
                {
                    return false;
                }
            }

            input.CopyTo(output);
            return true;
        }

        output.Clear();
        var buckets = (ulong)output.Length;
        for (var i = 0; i < input.Length; i++)
        {
            var value = input[i];
            if (!float.IsFinite(value))
            {
                return false;
            }

            var hash = SplitMix64.Mix((ulong)i + Salt);
            var bucket = (int)(((hash >> 32) * buckets) >> 32);
            output[bucket] += (hash & 1) == 0 ? value : -value;
        }

        // A sum of finite values can still overflow to infinity.
        foreach (var value in output)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }
}
