using System.Collections.Concurrent;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Limits;

/// <summary>
/// The bytes of request bodies one process holds at once, each request's counted as its body arrives and is read
/// (<see cref="BodyReservation"/>, <see cref="CountedBodyStream"/>), against the whole process's limit and, where a
/// caller's share is set, against its caller's share. A request alone is always let in: a count is refused only while
/// something else is counted where it would pass a limit. The gateway's (<see cref="RequestLimits.ReserveBody"/>) has a
/// caller's share; the inference app's, which only the gateways call, has none.
/// </summary>
public sealed class BodyBudget
{
    private readonly long _limit;
    private readonly Refusal _busy;
    private readonly long _callerShare;
    private readonly Refusal? _callerRefusal;
    private readonly ConcurrentDictionary<string, HeldBytes> _callers = new(StringComparer.Ordinal);
    private long _held;

    /// <param name="limit">Bytes all requests may have counted at once.</param>
    /// <param name="busy">The refusal of a count past <paramref name="limit"/>.</param>
    /// <param name="callerShare">Bytes one caller's requests may have counted at once; null: no share.</param>
    /// <param name="callerRefusal">The refusal of a count past <paramref name="callerShare"/>.</param>
    public BodyBudget(long limit, Refusal busy, long? callerShare = null, Refusal? callerRefusal = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentNullException.ThrowIfNull(busy);
        if (callerShare is { } share)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(share);
            ArgumentNullException.ThrowIfNull(callerRefusal);
        }

        _limit = limit;
        _busy = busy;
        _callerShare = callerShare ?? 0;
        _callerRefusal = callerShare is null ? null : callerRefusal;
    }

    /// <summary>Bytes counted now.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Callers with bytes counted now (an entry each; none when there is no caller's share).</summary>
    internal int Callers => _callers.Count;

    /// <summary>
    /// An empty count for one request of <paramref name="caller"/> (pseudonym; null where the budget has no caller's
    /// share), grown as its body is read and given back whole when disposed.
    /// </summary>
    public BodyReservation Reserve(string? caller = null)
    {
        if (_callerRefusal is not null)
        {
            ArgumentNullException.ThrowIfNull(caller);
        }

        return new BodyReservation(this, _callerRefusal is null ? null : caller);
    }

    // Adds bytes to a reservation's count, or refuses (nothing added): past the caller's share first, then past the
    // process's limit, unless nothing but this reservation is counted there.
    internal Refusal? Grow(BodyReservation reservation, long bytes)
    {
        HeldBytes? held = null;
        if (reservation.Caller is { } caller)
        {
            held = GrowCaller(reservation, caller, bytes, out var refusal);
            if (held is null)
            {
                return refusal;
            }
        }

        var total = Interlocked.Add(ref _held, bytes);
        if (total - bytes > reservation.Held && total > _limit)
        {
            Interlocked.Add(ref _held, -bytes);
            if (held is not null)
            {
                lock (held)
                {
                    held.Value -= bytes;
                    DropIfEmpty(reservation.Caller!, held);
                }
            }

            return _busy;
        }

        reservation.Entry = held;
        return null;
    }

    // The caller's entry with the bytes added, or null and the caller's refusal.
    private HeldBytes? GrowCaller(BodyReservation reservation, string caller, long bytes, out Refusal? refusal)
    {
        while (true)
        {
            var held = reservation.Entry ?? _callers.GetOrAdd(caller, static _ => new HeldBytes());
            lock (held)
            {
                // Emptied and dropped by the caller's last release meanwhile: counted on it, these bytes would be unseen
                // by the caller's next requests, which find a new entry. (A reservation's own entry, once it counts
                // bytes, is never dropped while it does.)
                if (held.Dropped)
                {
                    continue;
                }

                if (held.Value > reservation.Held && held.Value + bytes > _callerShare)
                {
                    DropIfEmpty(caller, held);
                    refusal = _callerRefusal;
                    return null;
                }

                held.Value += bytes;
                refusal = null;
                return held;
            }
        }
    }

    internal void Release(BodyReservation reservation, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        Interlocked.Add(ref _held, -bytes);
        if (reservation.Entry is { } held)
        {
            lock (held)
            {
                held.Value -= bytes;
                DropIfEmpty(reservation.Caller!, held);
            }
        }
    }

    // Under the entry's lock: a caller with nothing counted leaves no entry.
    private void DropIfEmpty(string caller, HeldBytes held)
    {
        if (held.Value == 0)
        {
            held.Dropped = true;
            _callers.TryRemove(KeyValuePair.Create(caller, held));
        }
    }

    /// <summary>A caller's body bytes counted now; changed only under its own lock.</summary>
    internal sealed class HeldBytes
    {
        public long Value;
        public bool Dropped;
    }
}

/// <summary>
/// One request's count of body bytes (<see cref="BodyBudget.Reserve"/>): grown by its body's reader, one read at a time,
/// and given back whole, once, when disposed.
/// </summary>
public sealed class BodyReservation : IBodyCount, IDisposable
{
    private readonly BodyBudget _budget;
    private readonly Lock _gate = new();
    private bool _disposed;

    internal BodyReservation(BodyBudget budget, string? caller)
    {
        _budget = budget;
        Caller = caller;
    }

    /// <summary>The caller counted against its share; null where the budget has none.</summary>
    internal string? Caller { get; }

    /// <summary>The caller's entry, once this reservation counts bytes on it.</summary>
    internal BodyBudget.HeldBytes? Entry { get; set; }

    /// <summary>The bytes this reservation counts now.</summary>
    public long Held { get; private set; }

    /// <summary>
    /// Counts <paramref name="bytes"/> more; the budget's refusal (nothing counted) when that passes the caller's share or
    /// the process's limit while anything else is counted there. After <see cref="Dispose"/>, counts nothing and refuses
    /// nothing.
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

            if (_budget.Grow(this, bytes) is { } refusal)
            {
                return refusal;
            }

            Held += bytes;
            return null;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _budget.Release(this, Held);
            Held = 0;
        }
    }
}
