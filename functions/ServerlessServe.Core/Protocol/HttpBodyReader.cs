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
            Return(buffer, length);
        }
    }

    /// <summary>
    /// As <see cref="ReadLimitedAsync"/>, but the body stays in the pooled buffer it was read into: its first
    /// <c>Length</c> bytes. The caller owns the buffer and hands it back with <see cref="Return"/> (or to
    /// <see cref="ArrayPool{T}.Shared"/> with <c>clearArray: true</c>) once nothing reads it any more (one not returned is
    /// only collected). Spares a copy and an allocation of the body's size per request.
    /// </summary>
    public static async Task<(byte[] Buffer, int Length)> ReadPooledAsync(Stream body, long? contentLength, int maxBytes, CancellationToken cancellationToken)
    {
        var parts = await ReadPartsAsync(body, contentLength, maxBytes, contiguous: true, cancellationToken).ConfigureAwait(false);
        if (parts.Count == 1)
        {
            return parts[0];
        }

        // A body that came in several buffers (chunked, or a declared one that ended early) is put together now.
        var length = 0;
        foreach (var (_, partLength) in parts)
        {
            length += partLength;
        }

        var joined = ArrayPool<byte>.Shared.Rent(length);
        Join(parts, joined);
        return (joined, length);
    }

    /// <summary>
    /// Reads the whole body, as <see cref="ReadPooledAsync"/> does, and refuses it alike, but never puts it together: it
    /// stays in the pooled buffers it arrived in (<see cref="ReceivedBody"/>, handed back wiped when disposed). With a
    /// <c>Content-Length</c>, once half the body has arrived the rest is read into one buffer of its remaining size. Memory
    /// follows the bytes as with <see cref="ReadPooledAsync"/>; no byte is copied after the stream hands it over.
    /// </summary>
    public static async Task<ReceivedBody> ReadSegmentsAsync(Stream body, long? contentLength, int maxBytes, CancellationToken cancellationToken) =>
        new(await ReadPartsAsync(body, contentLength, maxBytes, contiguous: false, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// The body in the buffers it was read into, in order. <paramref name="contiguous"/>: with a <c>Content-Length</c>,
    /// once half has arrived the buffer for the whole body is taken and what came before is copied into it (one part);
    /// otherwise the rest goes into a last buffer of its own.
    /// </summary>
    private static async Task<List<(byte[] Array, int Length)>> ReadPartsAsync(Stream body, long? contentLength, int maxBytes, bool contiguous, CancellationToken cancellationToken)
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

        // The most the body may hold. Nothing is read past it; once it is full, one more read must find the end.
        var limit = (int)(contentLength ?? maxBytes);

        // Memory follows the bytes that arrived, never the declared length alone: the first buffer holds 64 KiB, and each
        // further one at most what has arrived so far. A full buffer is kept as it is, not copied into a larger one (each
        // such copy, and wiping the array it left, cost a 19 MB body about 3 ms). With a Content-Length, the buffer for
        // the rest of the body (or, contiguous, for all of it) is taken as soon as half of it has arrived, and the rest is
        // read straight into it, so at most half the body is copied (contiguous) or none.
        var half = contentLength.HasValue ? (int)((limit + 1L) / 2) : int.MaxValue;
        byte[]? buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferBytes, limit));
        var filled = 0;
        var before = 0;
        List<(byte[] Array, int Length)>? full = null;
        try
        {
            while (true)
            {
                // The pool may hand out more than was asked for: never read past the limit.
                var room = Math.Min(buffer.Length, limit - before) - filled;
                if (room == 0)
                {
                    var arrived = before + filled;
                    if (arrived == limit)
                    {
                        if (await body.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) != 0)
                        {
                            throw contentLength.HasValue ? RefusedException.Invalid("request body is longer than its Content-Length") : TooLarge(maxBytes);
                        }

                        break;
                    }

                    (full ??= []).Add((buffer, filled));
                    buffer = null;
                    filled = 0;
                    before = arrived;
                    if (arrived < half)
                    {
                        buffer = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Min(arrived, limit - arrived), half - arrived));
                    }
                    else if (!contiguous)
                    {
                        // Half the declared body is here: the rest goes into one buffer of its size.
                        buffer = ArrayPool<byte>.Shared.Rent(limit - arrived);
                    }
                    else
                    {
                        // Half the declared body is here: the rest goes straight into the buffer that holds all of it.
                        var whole = ArrayPool<byte>.Shared.Rent(limit);
                        Join(full, whole);
                        buffer = whole;
                        before = 0;
                        filled = arrived;
                    }

                    continue;
                }

                var read = await body.ReadAsync(buffer.AsMemory(filled, room), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    if (contentLength.HasValue)
                    {
                        throw RefusedException.Invalid("request body is shorter than its Content-Length");
                    }

                    break;
                }

                filled += read;
            }

            var parts = full ?? [];
            full = null;
            parts.Add((buffer, filled));
            buffer = null;
            return parts;
        }
        finally
        {
            // Only a read that failed leaves buffers here; a finished one handed them on.
            if (buffer is not null)
            {
                Return(buffer, filled);
            }

            foreach (var (array, length) in full ?? [])
            {
                Return(array, length);
            }
        }
    }

    /// <summary>Copies <paramref name="parts"/> one after another into <paramref name="into"/> and hands each back, wiped.</summary>
    private static void Join(List<(byte[] Array, int Length)> parts, byte[] into)
    {
        var at = 0;
        foreach (var (array, length) in parts)
        {
            array.AsSpan(0, length).CopyTo(into.AsSpan(at));
            at += length;
            Return(array, length);
        }

        parts.Clear();
    }

    /// <summary>
    /// Hands a buffer of <see cref="ReadPooledAsync"/> back to <see cref="ArrayPool{T}.Shared"/> with the
    /// <paramref name="length"/> bytes the read wrote into it wiped. Those are the only bytes of the body it holds: the
    /// pool rounds a rental up to a power of two (a 19 MB body lies in a 32 MiB array), and the rest of the array is as
    /// the pool lent it, so wiping all of it (<c>clearArray: true</c>) would cost a third more for nothing.
    /// </summary>
    public static void Return(byte[] buffer, int length)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        buffer.AsSpan(0, length).Clear();
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private static RefusedException TooLarge(int maxBytes) => RefusedException.TooLarge($"request body exceeds {maxBytes} bytes");
}
