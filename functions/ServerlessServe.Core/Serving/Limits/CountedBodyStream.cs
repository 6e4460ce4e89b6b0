using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving.Limits;

/// <summary>
/// A request body whose bytes are counted (<see cref="IBodyCount"/>: a <see cref="BodyReservation"/> on the
/// gateway) as they arrive, and, once the
/// whole body is here (the stream ended, or as many bytes as <paramref name="declaredLength"/> said arrived), what
/// reading it then holds besides (<paramref name="atEnd"/> of the body's length: the tensors a JSON body decodes to, a
/// job's items as text). A count refused ends the read with <see cref="RefusedException"/> (429 or 503, with
/// <c>Retry-After</c>), as the edge's own body stream ends a stalled one. So a body holds in the count what it has sent,
/// not what it declares: a caller trickling a body that declares 16 MiB holds 16 MiB only once it has sent them.
/// </summary>
public sealed class CountedBodyStream(Stream inner, IBodyCount reservation, long? declaredLength, Func<long, long> atEnd) : Stream, IPrepaidBody
{
    private long _arrived;
    private long _prepaid;
    private bool _ended;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Count(read, buffer.IsEmpty);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Count(read, buffer.IsEmpty);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>
    /// What reading a V2 body holds besides its bytes once it is all here: for the binary extension (<paramref name="headerLength"/>
    /// given, the JSON header's length) the tensors copied from the buffers it arrived in, and what the header's own JSON
    /// numbers can decode to; for JSON the body put together in one buffer (when it arrived in several) and what its
    /// numbers can decode to: up to 8 bytes from as few as 2 characters (<c>0,</c>), 4 bytes a character, never more than
    /// <paramref name="maxElements"/> elements of 8 bytes.
    /// </summary>
    public static long V2Decoded(long length, long? headerLength, long maxElements) => headerLength is { } header
        ? length + Math.Min(4 * Math.Clamp(header, 0, length), 8 * maxElements)
        : length + Math.Min(4 * length, 8 * maxElements);

    /// <summary>
    /// Counts <paramref name="bytes"/> still to arrive now, ahead of them (a reader makes their arrays first); as they
    /// arrive they are not counted again. Throws <see cref="RefusedException"/> when the count may not grow.
    /// </summary>
    public void Prepay(long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }

        if (reservation.TryGrow(bytes) is { } refusal)
        {
            throw new RefusedException(refusal);
        }

        _prepaid += bytes;
    }

    private void Count(int read, bool askedForNone)
    {
        if (read > 0)
        {
            _arrived += read;
            var paid = Math.Min(read, _prepaid);
            _prepaid -= paid;
            if (read > paid && reservation.TryGrow(read - paid) is { } refusal)
            {
                throw new RefusedException(refusal);
            }
        }

        if (!_ended && ((read == 0 && !askedForNone) || (declaredLength is { } declared && _arrived >= declared)))
        {
            _ended = true;
            if (reservation.TryGrow(atEnd(_arrived)) is { } refusal)
            {
                throw new RefusedException(refusal);
            }
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
