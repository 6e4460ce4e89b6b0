namespace ServerlessServe.Core.Protocol;

/// <summary>
/// One request's arrays from a <see cref="TensorArrayPool"/>, counted by holders. Its creator holds it once; whoever
/// may read the request's tensors after the request itself is done (the body forwarded to the inference app, a queued
/// batch item) holds it too while reading (<see cref="TryHold"/>, then <see cref="Release"/>). The arrays go back to
/// the pool, wiped, when the last holder lets go; after that the lease cannot be held again. A lease never released is
/// only collected with its arrays, as if they had never been pooled.
/// </summary>
public sealed class TensorLease
{
    private readonly TensorArrayPool _pool;
    private readonly Lock _gate = new();
    private List<(TensorDataType Type, Array Array)>? _arrays;
    private int _holders = 1;

    internal TensorLease(TensorArrayPool pool)
    {
        _pool = pool;
    }

    /// <summary>Whether a tensor of <paramref name="type"/> and <paramref name="count"/> elements is rented from the pool.</summary>
    public bool Pools(TensorDataType type, int count) => _pool.Pools(type, count);

    /// <summary>Whether the arrays have gone back to the pool.</summary>
    public bool IsReleased => Volatile.Read(ref _holders) == 0;

    /// <summary>
    /// An array of exactly <paramref name="count"/> elements for a tensor of <paramref name="type"/>, from the pool
    /// when the pool takes such tensors, otherwise allocated; its contents are undefined until the caller fills it.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The lease was released.</exception>
    public Array Rent(TensorDataType type, int count)
    {
        if (!_pool.Pools(type, count))
        {
            return BinaryTensorCodec.AllocateUninitialized(type, count);
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(IsReleased, this);
            var array = _pool.Rent(type, count);
            (_arrays ??= []).Add((type, array));
            return array;
        }
    }

    /// <summary>Holds the lease once more; false when it was released already (its arrays must not be read then).</summary>
    public bool TryHold()
    {
        var holders = Volatile.Read(ref _holders);
        while (holders > 0)
        {
            var seen = Interlocked.CompareExchange(ref _holders, holders + 1, holders);
            if (seen == holders)
            {
                return true;
            }

            holders = seen;
        }

        return false;
    }

    /// <summary>Lets go of one hold; the last one gives the arrays back to the pool. A release beyond the holds throws.</summary>
    public void Release()
    {
        var left = Interlocked.Decrement(ref _holders);
        if (left > 0)
        {
            return;
        }

        if (left < 0)
        {
            Interlocked.Exchange(ref _holders, 0);
            throw new InvalidOperationException("The tensor lease was released more times than it was held.");
        }

        lock (_gate)
        {
            foreach (var (type, array) in _arrays ?? [])
            {
                _pool.Return(type, array);
            }

            _arrays = null;
        }
    }

    /// <summary>
    /// Holds every distinct lease of <paramref name="tensors"/> (those decoded into pooled arrays) until the returned
    /// value is disposed. Throws <see cref="ObjectDisposedException"/>, holding nothing, when one was released already.
    /// </summary>
    public static IDisposable HoldAll(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        List<TensorLease>? held = null;
        foreach (var tensor in tensors)
        {
            if (tensor.Lease is not { } lease || (held?.Contains(lease) ?? false))
            {
                continue;
            }

            if (!lease.TryHold())
            {
                if (held is not null)
                {
                    new Holds(held).Dispose();
                }

                throw new ObjectDisposedException(nameof(TensorLease), "The request's tensors were released before they were read.");
            }

            (held ??= []).Add(lease);
        }

        return held is null ? NoHolds.Instance : new Holds(held);
    }

    // What HoldAll returns when no tensor came from the pool (the usual small request): nothing to let go.
    private sealed class NoHolds : IDisposable
    {
        public static readonly NoHolds Instance = new();

        public void Dispose()
        {
        }
    }

    /// <summary>Holds taken by <see cref="HoldAll"/>, released once, by the first <see cref="Dispose"/>.</summary>
    private sealed class Holds(List<TensorLease> held) : IDisposable
    {
        private List<TensorLease>? _held = held;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _held, null) is { } leases)
            {
                foreach (var lease in leases)
                {
                    lease.Release();
                }
            }
        }
    }
}
