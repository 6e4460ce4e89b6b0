namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Splits a serialised <see cref="ExtractionState"/> into pieces that fit Azure Table binary properties (at most 64 KiB
/// each; an entity holds at most 1 MiB in all) and joins them back.
/// </summary>
public static class ExtractionStateChunks
{
    /// <summary>The largest Azure Table binary property, in bytes (64 KiB).</summary>
    public const int MaxChunkBytes = 64 * 1024;

    /// <summary>
    /// Splits <paramref name="data"/> into consecutive chunks of <paramref name="chunkBytes"/> bytes (the last may be
    /// shorter). Empty data gives no chunks.
    /// </summary>
    public static IReadOnlyList<byte[]> Split(ReadOnlySpan<byte> data, int chunkBytes = MaxChunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        var chunks = new List<byte[]>((data.Length + chunkBytes - 1) / chunkBytes);
        for (var offset = 0; offset < data.Length; offset += chunkBytes)
        {
            chunks.Add(data.Slice(offset, Math.Min(chunkBytes, data.Length - offset)).ToArray());
        }

        return chunks;
    }

    /// <summary>Concatenates <paramref name="chunks"/> in order.</summary>
    public static byte[] Join(IEnumerable<byte[]> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var list = chunks.ToList();
        var joined = new byte[list.Sum(static chunk => (long)chunk.Length)];
        var offset = 0;
        foreach (var chunk in list)
        {
            chunk.CopyTo(joined, offset);
            offset += chunk.Length;
        }

        return joined;
    }
}
