using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Serving.Limits;

/// <summary>
/// This instance's limiters (System.Threading.RateLimiting): one concurrency limiter for all inference requests, one
/// per caller for its requests to all models (<see cref="LimitOptions.CallerConcurrency"/>), and per caller and model a
/// token bucket and a concurrency limiter with the model policy's <c>limits</c> (or the defaults), and per caller a token
/// bucket of misses (<see cref="LimitOptions.MissesPerSecond"/>). Nothing waits in a queue: a request over a limit is refused at once with when to retry. Idle per-caller
/// limiters are dropped by the partitioned limiters themselves, so memory follows the callers active now.
/// </summary>
public sealed class RequestLimits : IDisposable
{
    private readonly LimitOptions _options;
    private readonly ConcurrencyLimiter _global;
    private readonly PartitionedRateLimiter<Key> _rate;
    private readonly PartitionedRateLimiter<Key> _concurrency;
    private readonly PartitionedRateLimiter<string> _callers;
    private readonly PartitionedRateLimiter<string> _misses;
    private readonly TimeSpan _missRetryAfter;
    private readonly ConcurrentDictionary<string, PendingMisses> _pendingMisses = new(StringComparer.Ordinal);
    private readonly BodyBudget _bodies;

    public RequestLimits(IOptions<LimitOptions> options)
    {
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
        _global = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = _options.GlobalConcurrency, QueueLimit = 0 });
        _rate = PartitionedRateLimiter.Create<Key, Key>(key => RateLimitPartition.GetTokenBucketLimiter(key, static k => Bucket(k)));
        _concurrency = PartitionedRateLimiter.Create<Key, Key>(key => RateLimitPartition.GetConcurrencyLimiter(
            key, static k => new ConcurrencyLimiterOptions { PermitLimit = k.Concurrency, QueueLimit = 0 }));
        var perCaller = _options.CallerConcurrency;
        _callers = PartitionedRateLimiter.Create<string, string>(caller => RateLimitPartition.GetConcurrencyLimiter(
            caller, _ => new ConcurrencyLimiterOptions { PermitLimit = perCaller, QueueLimit = 0 }));
        var misses = new Key(string.Empty, string.Empty, _options.MissesPerSecond, _options.MissBurst, 1);
        _misses = PartitionedRateLimiter.Create<string, string>(caller => RateLimitPartition.GetTokenBucketLimiter(caller, _ => Bucket(misses)));
        _missRetryAfter = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(1 / _options.MissesPerSecond)));
        _bodies = new BodyBudget(_options.BodyBytesInFlight, BodiesBusy, _options.CallerBodyBytesInFlight, CallerBodiesBusy);
    }

    /// <summary>Spends one of <paramref name="caller"/>'s misses (none left: nothing more to spend).</summary>
    public void ChargeMiss(string caller) => _misses.AttemptAcquire(caller).Dispose();

    /// <summary>
    /// Whether <paramref name="caller"/> (pseudonym) may still have a miss (<see cref="LimitOptions.MissesPerSecond"/>):
    /// null while its allowance holds one, else 429 with when to retry. Takes nothing yet (<see cref="ChargeMiss"/> does,
    /// once the request turned out to be one), but the request holds one of the caller's whole
    /// misses until <see cref="MissReservation.Settle"/> (the request found its model and was admitted to it, or ended).
    /// So requests sent at once cannot all pass while one miss is left and then all spend it: a caller has at most as
    /// many undecided requests as it has misses left, and probing at any concurrency costs no more lookups and records
    /// than its allowance. A caller's requests to models it may use hold their place only from <c>misses</c> to
    /// <c>authorize</c>.
    /// </summary>
    public Refusal? ReserveMiss(string caller, out MissReservation? reservation)
    {
        ArgumentNullException.ThrowIfNull(caller);
        reservation = null;
        var pending = _pendingMisses.GetOrAdd(caller, static _ => new PendingMisses());
        var held = Interlocked.Increment(ref pending.Count);

        // Whole tokens: a token bucket answers a request for none with success as soon as any fraction of one has come back.
        if (_misses.GetStatistics(caller) is { } statistics && statistics.CurrentAvailablePermits < held)
        {
            ReleasePending(caller, pending);
            return Refusal.RateLimited("too many requests") with { RetryAfter = _missRetryAfter };
        }

        reservation = new MissReservation(this, caller, pending);
        return null;
    }

    private void ReleasePending(string caller, PendingMisses pending)
    {
        // A caller with nothing undecided leaves no entry. A request that took the entry just before it was removed counts
        // on the removed one, unseen by the caller's next requests until it settles: at most one more at that moment.
        if (Interlocked.Decrement(ref pending.Count) == 0)
        {
            _pendingMisses.TryRemove(KeyValuePair.Create(caller, pending));
        }
    }

    /// <summary>One request's hold on one of its caller's misses (<see cref="ReserveMiss"/>).</summary>
    public sealed class MissReservation
    {
        private readonly RequestLimits _limits;
        private readonly string _caller;
        private readonly PendingMisses _pending;
        private int _settled;

        internal MissReservation(RequestLimits limits, string caller, PendingMisses pending)
        {
            _limits = limits;
            _caller = caller;
            _pending = pending;
        }

        /// <summary>Gives the hold back, spending the miss first when the request was one. Once; later calls do nothing.</summary>
        public void Settle(bool miss)
        {
            if (Interlocked.Exchange(ref _settled, 1) != 0)
            {
                return;
            }

            if (miss)
            {
                _limits.ChargeMiss(_caller);
            }

            _limits.ReleasePending(_caller, _pending);
        }
    }

    /// <summary>A caller's requests that hold a miss now.</summary>
    internal sealed class PendingMisses
    {
        public int Count;
    }

    /// <summary>Requests in flight on this instance may not exceed the global limit; the lease holds one place.</summary>
    public Refusal? TryAdmit(out RateLimitLease? lease)
    {
        lease = _global.AttemptAcquire();
        if (lease.IsAcquired)
        {
            return null;
        }

        lease.Dispose();
        lease = null;
        return Refusal.Unavailable("server busy") with { RetryAfter = TimeSpan.FromSeconds(1) };
    }

    /// <summary>
    /// The refusal of a body past the instance's bytes in flight (<see cref="LimitOptions.BodyBytesInFlight"/>): 503
    /// <c>server busy</c>, with its reason (<see cref="BodiesReason"/>) so that a caller's repeated ones go into its
    /// refusal summary, as load shed at <c>admit</c> costs no record either.
    /// </summary>
    public static Refusal BodiesBusy { get; } = Refusal.Unavailable("server busy") with { RetryAfter = TimeSpan.FromSeconds(1), Reason = BodiesReason };

    /// <summary>The <see cref="Refusal.Reason"/> of <see cref="BodiesBusy"/>.</summary>
    public const string BodiesReason = "bodies";

    /// <summary>
    /// The refusal of a body past its caller's share of bytes in flight (<see cref="LimitOptions.CallerBodyBytesInFlight"/>):
    /// 429 <c>too much request data in flight</c>.
    /// </summary>
    public static Refusal CallerBodiesBusy { get; } = Refusal.RateLimited("too much request data in flight") with { RetryAfter = TimeSpan.FromSeconds(1) };

    /// <summary>Bytes counted now for request bodies in flight on this instance (<see cref="ReserveBody"/>).</summary>
    public long BodyBytesInFlight => _bodies.Held;

    /// <summary>
    /// A count of <paramref name="caller"/>'s (pseudonym) body bytes, empty at first, that grows as the body arrives and
    /// is read (<see cref="BodyReservation.TryGrow"/>, <see cref="CountedBodyStream"/>) and is given back whole when
    /// disposed. Counted against the caller's share (<see cref="LimitOptions.CallerBodyBytesInFlight"/>, 429
    /// <see cref="CallerBodiesBusy"/>) and the instance's (<see cref="LimitOptions.BodyBytesInFlight"/>, 503
    /// <see cref="BodiesBusy"/>).
    /// </summary>
    public BodyReservation ReserveBody(string caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return _bodies.Reserve(caller);
    }

    /// <summary>
    /// Takes one request of <paramref name="caller"/> (pseudonym) on <paramref name="model"/> from its token bucket, one
    /// place of its concurrency on the model and one of its concurrency on all models; the lease holds both places until
    /// disposed. A refusal says when to retry.
    /// </summary>
    public Refusal? TryAcquire(string caller, string model, LimitsPolicy? policy, out IDisposable? lease)
    {
        var key = Resolve(caller, model, policy);
        lease = null;
        using (var rate = _rate.AttemptAcquire(key))
        {
            if (!rate.IsAcquired)
            {
                var retry = rate.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                return Refusal.RateLimited("too many requests") with { RetryAfter = retry };
            }
        }

        return TryHold(caller, model, policy, out lease);
    }

    /// <summary>
    /// A place of <paramref name="caller"/>'s concurrency on <paramref name="model"/> and on all models, without a token
    /// of its rate: for a job submission, which reads and parses its body under them and then charges each item to the
    /// rate (<see cref="TryTake"/>). The lease holds both places until disposed.
    /// </summary>
    public Refusal? TryHold(string caller, string model, LimitsPolicy? policy, out IDisposable? lease)
    {
        var key = Resolve(caller, model, policy);
        lease = null;
        var place = _concurrency.AttemptAcquire(key);
        if (!place.IsAcquired)
        {
            place.Dispose();
            return Refusal.RateLimited("too many requests") with { RetryAfter = TimeSpan.FromSeconds(1) };
        }

        var callerPlace = _callers.AttemptAcquire(caller);
        if (!callerPlace.IsAcquired)
        {
            callerPlace.Dispose();
            place.Dispose();
            return Refusal.RateLimited("too many requests") with { RetryAfter = TimeSpan.FromSeconds(1) };
        }

        lease = new Places(place, callerPlace);
        return null;
    }

    /// <summary>
    /// Takes <paramref name="requests"/> requests of <paramref name="caller"/> (pseudonym) on <paramref name="model"/>
    /// from its token bucket at once, the same bucket <see cref="TryAcquire"/> draws on: a job's items, each of which
    /// the model's rate limit counts as a request. More than the bucket can ever hold (the burst): 413, which no wait
    /// cures; more than it holds now: 429 with when to retry. Takes no place of the caller's concurrency: a job's items
    /// run at the jobs feature's own concurrency.
    /// </summary>
    public Refusal? TryTake(string caller, string model, LimitsPolicy? policy, int requests)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requests);
        var key = Resolve(caller, model, policy);
        if (TooManyAtOnce(policy, requests) is { } tooLarge)
        {
            return tooLarge;
        }

        using var rate = _rate.AttemptAcquire(key, requests);
        if (rate.IsAcquired)
        {
            return null;
        }

        var retry = rate.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        return Refusal.RateLimited("too many requests") with { RetryAfter = retry };
    }

    /// <summary>
    /// Whether <paramref name="requests"/> could be taken now from <paramref name="caller"/>'s rate on
    /// <paramref name="model"/>, without taking them: a look before a costly step, with <see cref="TryTake"/> after it
    /// doing the taking (and refusing, if others took them meanwhile).
    /// </summary>
    public bool MayTake(string caller, string model, LimitsPolicy? policy, int requests) =>
        (_rate.GetStatistics(Resolve(caller, model, policy))?.CurrentAvailablePermits ?? long.MaxValue) >= requests;

    /// <summary>
    /// The refusal (429) of <paramref name="requests"/> that <see cref="MayTake"/> found too many for the bucket now,
    /// with when enough will have come back: taking nothing, where <see cref="TryTake"/> on a bucket that filled meanwhile
    /// would take them for a submission refused next for another reason (found in review 2026-12-07).
    /// </summary>
    public Refusal TooFewNow(string caller, string model, LimitsPolicy? policy, int requests)
    {
        var key = Resolve(caller, model, policy);
        var available = _rate.GetStatistics(key)?.CurrentAvailablePermits ?? 0;
        var missing = Math.Max(1, requests - available);
        return Refusal.RateLimited("too many requests") with { RetryAfter = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(missing / key.RequestsPerSecond))) };
    }

    /// <summary>
    /// The refusal (413) of <paramref name="requests"/> taken at once under <paramref name="policy"/> when they are more
    /// than its burst: no wait would let them through; null when they are not.
    /// </summary>
    public Refusal? TooManyAtOnce(LimitsPolicy? policy, int requests)
    {
        var burst = policy?.Burst ?? _options.Burst;
        return requests > burst
            ? Refusal.TooLarge($"{requests} items are more than this caller may send to the model at once (a burst of {burst} requests); split the job")
            : null;
    }

    public void Dispose()
    {
        _global.Dispose();
        _rate.Dispose();
        _concurrency.Dispose();
        _callers.Dispose();
        _misses.Dispose();
    }

    /// <summary>A request's place on the model and among the caller's requests, given back together.</summary>
    private sealed class Places(RateLimitLease model, RateLimitLease caller) : IDisposable
    {
        public void Dispose()
        {
            model.Dispose();
            caller.Dispose();
        }
    }

    private Key Resolve(string caller, string model, LimitsPolicy? policy) => new(
        caller,
        model,
        policy?.RequestsPerSecond ?? _options.RequestsPerSecond,
        policy?.Burst ?? _options.Burst,
        policy?.Concurrency ?? _options.Concurrency);

    // At least one token a period: a period of a tenth of a second at 10 requests per second and more, longer below.
    private static TokenBucketRateLimiterOptions Bucket(Key key)
    {
        var perPeriod = Math.Max(1, (int)Math.Round(key.RequestsPerSecond / 10));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = key.Burst,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(perPeriod / key.RequestsPerSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    /// <summary>A caller's limiters on a model, for the limits in force (a policy change starts new ones).</summary>
    private readonly record struct Key(string Caller, string Model, double RequestsPerSecond, int Burst, int Concurrency);
}
