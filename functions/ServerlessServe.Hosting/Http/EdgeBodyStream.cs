using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// A request body as the pipeline reads it: each read waits at most the idle timeout for bytes, the whole body at most
/// the total timeout from the first read, and what the server reports about a broken body becomes a refusal instead of
/// an unexpected exception — a stall, a body still arriving at the total timeout or one below Kestrel's minimum data
/// rate is <see cref="RefusalKind.TimedOut"/> (408), a body that ends before its <c>Content-Length</c>, a
/// malformed chunked body or a reset connection is <see cref="RefusalKind.Invalid"/> (400), a caller gone away is a
/// cancellation. Each is logged once at Information with an event id, without a stack trace.
/// </summary>
/// <remarks>
/// It reads the request's <see cref="PipeReader"/> and ends a stalled read with <see cref="PipeReader.CancelPendingRead"/>
/// rather than a cancelled token: Kestrel's body reader stays in a valid state, so the server can still drain or close
/// the connection cleanly after the 408 (a token-cancelled read leaves it unable to, and Kestrel logs an error).
/// </remarks>
internal sealed class EdgeBodyStream(PipeReader inner, TimeSpan idleTimeout, TimeSpan totalTimeout, CancellationToken requestAborted, ILogger logger) : Stream
{
    // When the whole body must have arrived (Stopwatch ticks), set at the first read.
    private long _until;

    /// <summary>The refusal of a body that ended early or broke the framing; one message for every such case.</summary>
    public static Refusal Incomplete { get; } = Refusal.Invalid("request body is incomplete or malformed");

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
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_until == 0)
        {
            _until = Stopwatch.GetTimestamp() + (long)(totalTimeout.TotalSeconds * Stopwatch.Frequency);
        }

        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, requestAborted);
        try
        {
            while (true)
            {
                var left = TimeSpan.FromSeconds((double)(_until - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
                if (left <= TimeSpan.Zero)
                {
                    Log.BodyTooLong(logger, (long)totalTimeout.TotalMilliseconds);
                    throw new RefusedException(Refusal.TimedOut);
                }

                var deadline = new Deadline();
                var last = left < idleTimeout;
                ReadResult result;
                using (var timer = new CancellationTokenSource(last ? left : idleTimeout))
                using (timer.Token.Register(() => deadline.Expire(inner)))
                {
                    result = await inner.ReadAsync(aborted.Token).ConfigureAwait(false);
                }

                if (result.Buffer.Length > 0)
                {
                    var length = (int)Math.Min(result.Buffer.Length, buffer.Length);
                    var taken = result.Buffer.Slice(0, length);
                    taken.CopyTo(buffer.Span);
                    inner.AdvanceTo(taken.End);
                    return length;
                }

                inner.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return 0;
                }

                if (result.IsCanceled && deadline.Expired)
                {
                    if (last)
                    {
                        Log.BodyTooLong(logger, (long)totalTimeout.TotalMilliseconds);
                    }
                    else
                    {
                        Log.BodyStalled(logger, (long)idleTimeout.TotalMilliseconds);
                    }

                    throw new RefusedException(Refusal.TimedOut);
                }

                // A cancellation left over from an earlier read's deadline that fired as its bytes arrived: read again.
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || requestAborted.IsCancellationRequested)
        {
            Log.BodyAborted(logger);
            throw new OperationCanceledException(cancellationToken.IsCancellationRequested ? cancellationToken : requestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            Log.BodyRefusedByServer(logger, ex.StatusCode);
            throw new RefusedException(ex.StatusCode switch
            {
                StatusCodes.Status408RequestTimeout => Refusal.TimedOut,
                StatusCodes.Status413PayloadTooLarge => Refusal.TooLarge("request body too large"),
                _ => Incomplete,
            });
        }
        catch (IOException) when (requestAborted.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            Log.BodyAborted(logger);
            throw new OperationCanceledException(cancellationToken.IsCancellationRequested ? cancellationToken : requestAborted);
        }
        catch (IOException ex)
        {
            Log.BodyBroken(logger, ex.GetType().Name);
            throw new RefusedException(Incomplete);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The request body is read asynchronously.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>One read's deadline: set when it passes, before the pending read is cancelled.</summary>
    private sealed class Deadline
    {
        private volatile bool _expired;

        public bool Expired => _expired;

        public void Expire(PipeReader reader)
        {
            _expired = true;
            reader.CancelPendingRead();
        }
    }
}
