using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Onnx;

/// <summary>
/// The bytes of request bodies the inference app holds at once (<see cref="InferenceOptions.BodyBytesInFlight"/>), each
/// request's counted as its body arrives (<see cref="CountedBodyStream"/>).
/// </summary>
internal sealed class InferenceBodyBudget
{
    private readonly long _limit;
    private long _held;

    public InferenceBodyBudget(IOptions<InferenceOptions> options)
    {
        _limit = (options ?? throw new ArgumentNullException(nameof(options))).Value.BodyBytesInFlight;
    }

    /// <summary>Bytes counted now.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>An empty count for one request, given back whole when disposed.</summary>
    public Reservation Reserve() => new(this);

    /// <summary>One request's count: grown by its body's reader, one read at a time; given back once.</summary>
    internal sealed class Reservation(InferenceBodyBudget budget) : IBodyCount, IDisposable
    {
        private readonly Lock _gate = new();
        private long _mine;
        private bool _disposed;

        /// <summary>
        /// Counts <paramref name="bytes"/> more; <see cref="OnnxModelRunner.Busy"/> (nothing counted) when that passes the
        /// app's bytes while another request's are counted too.
        /// </summary>
        public Refusal? TryGrow(long bytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(bytes);
            lock (_gate)
            {
                if (_disposed || bytes == 0)
                {
                    return null;
                }

                var total = Interlocked.Add(ref budget._held, bytes);
                if (total - bytes > _mine && total > budget._limit)
                {
                    Interlocked.Add(ref budget._held, -bytes);
                    return OnnxModelRunner.Busy;
                }

                _mine += bytes;
                return null;
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (!_disposed)
                {
                    _disposed = true;
                    Interlocked.Add(ref budget._held, -_mine);
                    _mine = 0;
                }
            }
        }
    }
}
