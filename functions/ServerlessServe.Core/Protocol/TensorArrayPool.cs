namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Arrays for large tensors decoded from the binary extension, kept for the next request of the same datatype and
/// element count instead of allocated anew (a 1x3x224x224 image is a 600 KB array on the large object heap, one per
/// request in each app, and each one brought a full garbage collection closer). Arrays are only ever handed out through
/// a <see cref="TensorLease"/>, which gives them back when nothing reads them any more.
/// </summary>
/// <remarks>
/// <para>What keeps one caller's data from another:</para>
/// <list type="bullet">
/// <item>An array is rented with the exact element count of the tensor, and the decoder overwrites every element
/// before anything reads it (<see cref="BinaryTensorCodec.Decode(ReadOnlySpan{byte}, TensorDataType, int, int, BodyLocation, TensorLease?)"/>).</item>
/// <item>An array comes back only when its lease's last holder lets go: the request, and any reader that may outlive
/// it (the forwarded body still being written, a queued batch item), each hold the lease while they read.</item>
/// <item>An array is wiped when it comes back, so nothing of a request stays readable in the pool.</item>
/// <item>A lease that was let go cannot be held again: a late reader gets an error, never another request's data.</item>
/// </list>
/// <para>Bounds: only numeric tensors of at least <see cref="MinPooledBytes"/>; at most <see cref="MaxRetainedBytes"/>
/// kept in all, in at most <see cref="Slots"/> arrays. When full, the oldest kept array makes room, so sizes that
/// stop coming (or that a caller sends once) age out.</para>
/// </remarks>
public sealed class TensorArrayPool
{
    /// <summary>The smallest array worth keeping, in bytes (smaller ones are cheap young-generation allocations).</summary>
    public const int MinPooledBytes = 64 * 1024;

    private static readonly System.Diagnostics.Metrics.Counter<long> Rents = Pipeline.PipelineTelemetry.Meter.CreateCounter<long>(
        "serverlessserve.tensor_pool.rents", description: "Arrays rented for large decoded tensors, by whether a kept array was reused.");

    private readonly Lock _gate = new();
    private readonly Kept?[] _slots;
    private long _retainedBytes;
    private int _next;

    /// <param name="maxRetainedBytes">The most bytes kept for reuse; 0 keeps nothing (every array is allocated).</param>
    /// <param name="slots">The most arrays kept.</param>
    public TensorArrayPool(long maxRetainedBytes, int slots = 32)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        MaxRetainedBytes = maxRetainedBytes;
        _slots = new Kept?[slots];
    }

    /// <summary>The most bytes kept for reuse.</summary>
    public long MaxRetainedBytes { get; }

    /// <summary>The most arrays kept.</summary>
    public int Slots => _slots.Length;

    /// <summary>Bytes kept now, for tests and diagnostics.</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_gate)
            {
                return _retainedBytes;
            }
        }
    }

    /// <summary>Whether a tensor of <paramref name="type"/> and <paramref name="count"/> elements goes through the pool.</summary>
    public bool Pools(TensorDataType type, int count) =>
        MaxRetainedBytes > 0 && type != TensorDataType.Bytes && count >= 0
        && (long)count * type.ElementSize() is var bytes && bytes >= MinPooledBytes && bytes <= MaxRetainedBytes;

    /// <summary>A lease for one request's arrays, held once by its creator.</summary>
    public TensorLease Lease() => new(this);

    /// <summary>A kept array of exactly <paramref name="count"/> elements of <paramref name="type"/>, or a new one (contents undefined either way).</summary>
    internal Array Rent(TensorDataType type, int count)
    {
        lock (_gate)
        {
            for (var i = 0; i < _slots.Length; i++)
            {
                if (_slots[i] is { } kept && kept.Type == type && kept.Array.Length == count)
                {
                    _slots[i] = null;
                    _retainedBytes -= kept.Bytes;
                    Rents.Add(1, new KeyValuePair<string, object?>("reused", true));
                    return kept.Array;
                }
            }
        }

        Rents.Add(1, new KeyValuePair<string, object?>("reused", false));
        return BinaryTensorCodec.AllocateUninitialized(type, count);
    }

    /// <summary>Wipes <paramref name="array"/> and keeps it, making room by dropping the oldest kept arrays if needed.</summary>
    internal void Return(TensorDataType type, Array array)
    {
        var kept = new Kept(array, type);
        if (kept.Bytes > MaxRetainedBytes)
        {
            return;
        }

        Array.Clear(array);
        lock (_gate)
        {
            // A free slot, else the next in turn (the clock hand): the oldest arrays go first.
            var slot = Array.IndexOf(_slots, null);
            if (slot < 0)
            {
                slot = Advance();
                _retainedBytes -= _slots[slot]!.Bytes;
                _slots[slot] = null;
            }

            while (_retainedBytes + kept.Bytes > MaxRetainedBytes)
            {
                var victim = Advance();
                if (_slots[victim] is { } old)
                {
                    _retainedBytes -= old.Bytes;
                    _slots[victim] = null;
                }
            }

            _slots[slot] = kept;
            _retainedBytes += kept.Bytes;
        }
    }

    // Under the lock.
    private int Advance()
    {
        var slot = _next;
        _next = (_next + 1) % _slots.Length;
        return slot;
    }

    private sealed record Kept(Array Array, TensorDataType Type)
    {
        public long Bytes { get; } = (long)Array.Length * Type.ElementSize();
    }
}
