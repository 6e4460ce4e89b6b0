using System.Buffers;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

/// <summary>Reads an HTTP request body into memory under a size cap, refusing oversize bodies as early as possible.</summary>
public static class HttpBodyReader
{
    /// <summary>The first read buffer; it doubles as bytes actually arrive, up to what the body may hold.</summary>
    private const int InitialBufferBytes = 64 * 1024;

    /// <summary>
    /// Reads the whole body. A <paramref name="contentLength"/> over <paramref name="maxBytes"/> is refused as too large
    /// before anything is read; without one (chunked), reading stops as too large as soon as the cap is passed. Memory
    /// follows the bytes that arrived, never the declared length alone: the buffer starts at 64 KiB and doubles. A body
    /// shorter or longer than its Content-Length is invalid.
    /// </summary>
    public static async Task<byte[]> ReadLimitedAsync(Stream body, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        var (buffer, length) = await ReadPooledAsync(body, contentLength, maxBytes, cancellationToken).ConfigureAwait(false);
        try
        {
            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>
    /// As <see cref="ReadLimitedAsync"/>, but the body stays in the pooled buffer it was read into: its first
    /// <c>Length</c> bytes. The caller owns the buffer and returns it to <see cref="ArrayPool{T}.Shared"/> with
    /// <c>clearArray: true</c> once nothing reads it any more (one not returned is only collected). Spares a copy and an
    /// allocation of the body's size per request.
    /// </summary>
    public static async Task<(byte[] Buffer, int Length)> ReadPooledAsync(Stream body, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (contentLength is { } declared)
        {
            if (declared < 0)
            {
                throw RefusedException.Invalid("invalid Content-Length");
            }

            if (declared > maxBytes)
            {
                throw TooLarge(maxBytes);
            }
        }

        // The most the body may hold. The buffer never grows past it; once it is full, one more read must find the end.
        var limit = (int)(contentLength ?? maxBytes);
        byte[]? buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferBytes, limit));
        try
        {
            var length = 0;
            while (true)
            {
                // The pool may hand out more than was asked for: never read past the limit.
                var room = Math.Min(buffer.Length, limit) - length;
                if (room == 0)
                {
                    if (length == limit)
                    {
                        if (await body.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) != 0)
                        {
                            throw contentLength.HasValue ? RefusedException.Invalid("request body is longer than its Content-Length") : TooLarge(maxBytes);
                        }

                        return Handed(ref buffer, length);
                    }

                    var grown = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                    buffer = grown;
                    continue;
                }

                var read = await body.ReadAsync(buffer.AsMemory(length, room), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    if (contentLength.HasValue)
                    {
                        throw RefusedException.Invalid("request body is shorter than its Content-Length");
                    }

                    return Handed(ref buffer, length);
                }

                length += read;
            }
        }
        finally
        {
            // Only a read that failed leaves the buffer here; a finished one handed it to the caller.
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            }
        }
    }

    private static (byte[] Buffer, int Length) Handed(ref byte[]? buffer, int length)
    {
        var handed = buffer!;
        buffer = null;
        return (handed, length);
    }

    private static RefusedException TooLarge(int maxBytes) => RefusedException.TooLarge($"request body exceeds {maxBytes} bytes");
}
