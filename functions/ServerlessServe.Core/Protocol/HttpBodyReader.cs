using System.Buffers;

namespace ServerlessServe.Core.Protocol;

/// <summary>Reads an HTTP request body into memory under a size cap, refusing oversize bodies as early as possible.</summary>
public static class HttpBodyReader
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Reads the whole body. A <paramref name="contentLength"/> over <paramref name="maxBytes"/> is refused with 413
    /// before anything is read; without one (chunked), reading stops with 413 as soon as the cap is passed.
    /// A body shorter than its Content-Length is a 400.
    /// </summary>
    public static async Task<byte[]> ReadLimitedAsync(Stream body, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (contentLength is { } declared)
        {
            if (declared < 0)
            {
                throw ProtocolException.BadRequest("invalid Content-Length");
            }

            if (declared > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            var exact = GC.AllocateUninitializedArray<byte>((int)declared);
            var filled = 0;
            while (filled < exact.Length)
            {
                var read = await body.ReadAsync(exact.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw ProtocolException.BadRequest("request body is shorter than its Content-Length");
                }

                filled += read;
            }

            return exact;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(ChunkSize, maxBytes + 1));
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    // One byte beyond the cap is enough to know the body is too large.
                    var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                    buffer = grown;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.AsSpan(0, length).ToArray();
                }

                length += read;
                if (length > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    private static ProtocolException TooLarge(int maxBytes) => ProtocolException.TooLarge($"request body exceeds {maxBytes} bytes");
}
