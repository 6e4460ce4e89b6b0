using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Defenses;

/// <summary>Pads encoded bodies to size buckets with JSON whitespace (see <see cref="PaddingPolicy"/>).</summary>
public static class ResponsePadding
{
    /// <summary>The size <paramref name="length"/> bytes are padded to.</summary>
    public static long Target(long length, IReadOnlyList<int> buckets)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        foreach (var bucket in buckets)
        {
            if (length <= bucket)
            {
                return bucket;
            }
        }

        long largest = buckets[^1];
        return (length + largest - 1) / largest * largest;
    }

    /// <summary><paramref name="body"/> padded to its bucket: spaces after a JSON body, or at the end of a binary body's JSON header.</summary>
    public static EncodedBody Pad(EncodedBody body, IReadOnlyList<int> buckets)
    {
        ArgumentNullException.ThrowIfNull(body);
        var padding = (int)(Target(body.Body.Length, buckets) - body.Body.Length);
        if (padding == 0)
        {
            return body;
        }

        var padded = new byte[body.Body.Length + padding];
        var headerLength = body.HeaderLength ?? body.Body.Length;
        body.Body.AsSpan(0, headerLength).CopyTo(padded);
        padded.AsSpan(headerLength, padding).Fill((byte)' ');
        body.Body.AsSpan(headerLength).CopyTo(padded.AsSpan(headerLength + padding));
        return body with { Body = padded, HeaderLength = body.HeaderLength is null ? null : headerLength + padding };
    }

    /// <summary>An error body padded with trailing spaces to a multiple of <paramref name="size"/> bytes, so every refusal of a status has one length.</summary>
    public static byte[] PadError(byte[] body, int size)
    {
        ArgumentNullException.ThrowIfNull(body);
        var target = (body.Length + size - 1) / size * size;
        if (target == body.Length)
        {
            return body;
        }

        var padded = new byte[target];
        body.CopyTo(padded, 0);
        padded.AsSpan(body.Length).Fill((byte)' ');
        return padded;
    }
}
