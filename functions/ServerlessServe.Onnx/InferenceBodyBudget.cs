using Microsoft.Extensions.Options;

namespace ServerlessServe.Onnx;

/// <summary>The bytes of request bodies the inference app holds at once (<see cref="InferenceOptions.BodyBytesInFlight"/>).</summary>
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

    /// <summary>
    /// Counts <paramref name="bytes"/> until the returned reservation is disposed; false (nothing counted) when that would
    /// pass the limit while something else is counted.
    /// </summary>
    public bool TryReserve(long bytes, out IDisposable? reservation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var total = Interlocked.Add(ref _held, bytes);
        if (total != bytes && total > _limit)
        {
            Interlocked.Add(ref _held, -bytes);
            reservation = null;
            return false;
        }

        reservation = new Reservation(this, bytes);
        return true;
    }

    private sealed class Reservation(InferenceBodyBudget budget, long bytes) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Add(ref budget._held, -bytes);
            }
        }
    }
}
