using Azure.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Identity;

/// <summary>
/// The gateway's token for the inference app, from a <see cref="TokenCredential"/> (its managed identity), kept so the
/// request path costs a volatile read. A token is used until it is due for refresh — when a fifth of its lifetime is
/// left or <see cref="ServiceTokenOptions.RefreshBefore"/> before expiry, whichever comes first, or earlier when the
/// credential says so (<see cref="AccessToken.RefreshOn"/>) — and then still returned while one refresh runs in the
/// background. Only when no usable token is left does a request wait, and then for the one acquisition in flight, which
/// every waiting request shares: one credential call at a time, no lock on the request path. A failed background
/// refresh keeps the current token and is retried no sooner than <see cref="ServiceTokenOptions.RetryAfter"/>.
/// </summary>
internal sealed class ServiceTokenCache
{
    // A token is not sent when it has less than this left (at most a tenth of its lifetime): it could expire on the way.
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(30);

    private readonly TokenCredential _credential;
    private readonly TokenRequestContext _request;
    private readonly ServiceTokenOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ServiceTokenCache> _logger;
    private volatile Cached? _current;
    private Task<Cached>? _inFlight;
    private long _nextBackgroundAttemptTicks;
    private long _lastRefusedTicks = long.MinValue / 2;

    public ServiceTokenCache(TokenCredential credential, IOptions<ServiceTokenOptions> options, TimeProvider time, ILogger<ServiceTokenCache> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _credential = credential ?? throw new ArgumentNullException(nameof(credential));
        _options = options.Value;
        _request = new TokenRequestContext([_options.Scope]);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>A token for the inference app; throws <see cref="ServiceTokenUnavailableException"/> when none can be had.</summary>
    public ValueTask<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        var now = _time.GetUtcNow();
        if (current is not null && now < current.UsableUntil)
        {
            if (now >= current.RefreshAt && now.UtcTicks >= Interlocked.Read(ref _nextBackgroundAttemptTicks))
            {
                _ = Acquire();
            }

            return ValueTask.FromResult(current.Token);
        }

        return new ValueTask<string>(WaitForTokenAsync(cancellationToken));
    }

    /// <summary>
    /// The inference app refused <paramref name="token"/> (401): when it is the current token, a refresh is due now
    /// (in the background, the token still handed out meanwhile; at most one try per
    /// <see cref="ServiceTokenOptions.RetryAfter"/>, as any background refresh). An issuer that withdrew the key the
    /// token was signed with, or a token revoked, otherwise kept every inference request failing until the token's
    /// scheduled refresh, hours away for a 24-hour managed-identity token (found in review 2026-12-07).
    /// </summary>
    public void Refused(string token)
    {
        var current = _current;
        var now = _time.GetUtcNow();
        var last = Interlocked.Read(ref _lastRefusedTicks);
        if (current is not null && string.Equals(current.Token, token, StringComparison.Ordinal) && now < current.RefreshAt
            && now.UtcTicks - last >= _options.RetryAfter.Ticks && Interlocked.CompareExchange(ref _lastRefusedTicks, now.UtcTicks, last) == last)
        {
            Log.ServiceTokenRefused(_logger);
            _ = Interlocked.CompareExchange(ref _current, current with { RefreshAt = now }, current);
        }
    }

    private async Task<string> WaitForTokenAsync(CancellationToken cancellationToken) =>
        (await Acquire().WaitAsync(cancellationToken).ConfigureAwait(false)).Token;

    // The acquisition in flight, or a new one. The task never faults unobserved: a background refresh's failure is
    // logged inside it, and waiting requests observe it.
    private Task<Cached> Acquire()
    {
        var running = Volatile.Read(ref _inFlight);
        if (running is not null)
        {
            return running;
        }

        var started = new TaskCompletionSource<Cached>(TaskCreationOptions.RunContinuationsAsynchronously);
        running = Interlocked.CompareExchange(ref _inFlight, started.Task, null);
        if (running is not null)
        {
            return running;
        }

        _ = Task.Run(() => RunAsync(started));
        return started.Task;
    }

    private async Task RunAsync(TaskCompletionSource<Cached> completion)
    {
        Cached? acquired = null;
        Exception? failure = null;
        try
        {
            using var timeout = new CancellationTokenSource(_options.Timeout);
            var token = await _credential.GetTokenAsync(_request, timeout.Token).ConfigureAwait(false);
            acquired = Schedule(token, _time.GetUtcNow());
            _current = acquired;
            Log.ServiceTokenAcquired(_logger, acquired.ExpiresOn, acquired.RefreshAt);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failure = ex;
            Interlocked.Exchange(ref _nextBackgroundAttemptTicks, (_time.GetUtcNow() + _options.RetryAfter).UtcTicks);
            Log.ServiceTokenFailed(_logger, ex.GetType().Name, ex);
        }
        finally
        {
            Volatile.Write(ref _inFlight, null);
        }

        if (acquired is not null)
        {
            completion.SetResult(acquired);
        }
        else
        {
            completion.SetException(new ServiceTokenUnavailableException(failure!));

            // Observed here so a background refresh that nobody awaited does not surface as an unobserved exception.
            _ = completion.Task.Exception;
        }
    }

    private Cached Schedule(AccessToken token, DateTimeOffset now)
    {
        var expiresOn = token.ExpiresOn;
        var lifetime = expiresOn - now;
        if (lifetime <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("The credential returned a token that has already expired.");
        }

        var lead = TimeSpan.FromTicks(Math.Min(Math.Max(lifetime.Ticks / 5, _options.RefreshBefore.Ticks), lifetime.Ticks / 2));
        var refreshAt = expiresOn - lead;
        if (token.RefreshOn is { } refreshOn && refreshOn < refreshAt)
        {
            refreshAt = refreshOn;
        }

        var margin = TimeSpan.FromTicks(Math.Min(ExpiryMargin.Ticks, lifetime.Ticks / 10));
        return new Cached(token.Token, expiresOn, refreshAt, expiresOn - margin);
    }

    private sealed record Cached(string Token, DateTimeOffset ExpiresOn, DateTimeOffset RefreshAt, DateTimeOffset UsableUntil);
}
