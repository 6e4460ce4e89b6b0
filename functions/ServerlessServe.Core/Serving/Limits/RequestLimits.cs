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
    }

    /// <summary>
    /// Whether <paramref name="caller"/> (pseudonym) may still have a miss (<see cref="LimitOptions.MissesPerSecond"/>):
    /// null while its allowance holds one, else 429 with when to retry. Takes nothing; <see cref="ChargeMiss"/> does,
    /// once the request turned out to be one.
    /// </summary>
    public Refusal? TryMiss(string caller)
    {
        // Whole tokens: a token bucket answers a request for none with success as soon as any fraction of one has come back.
        return _misses.GetStatistics(caller) is { CurrentAvailablePermits: < 1 }
            ? Refusal.RateLimited("too many requests") with { RetryAfter = _missRetryAfter }
            : null;
    }

    /// <summary>Spends one of <paramref name="caller"/>'s misses (none left: nothing more to spend).</summary>
    public void ChargeMiss(string caller) => _misses.AttemptAcquire(caller).Dispose();

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
        if (requests > key.Burst)
        {
            return Refusal.TooLarge($"{requests} items are more than this caller may send to the model at once (a burst of {key.Burst} requests); split the job");
        }

        using var rate = _rate.AttemptAcquire(key, requests);
        if (rate.IsAcquired)
        {
            return null;
        }

        var retry = rate.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        return Refusal.RateLimited("too many requests") with { RetryAfter = retry };
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
