using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Tests.Identity;

/// <summary>
/// The gateway's token for the inference app: reused until a fifth of its lifetime is left (or 5 minutes, whichever
/// comes first), then refreshed once in the background while the current token is still handed out; only requests
/// with no usable token wait, all for the same one acquisition.
/// </summary>
public sealed class ServiceTokenCacheTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly ScriptedCredential _credential;

    public ServiceTokenCacheTests() => _credential = new ScriptedCredential(_time);

    [Fact]
    public async Task GetTokenAsync_AsksForTheResourcesDefaultScope()
    {
        await Cache().GetTokenAsync(CancellationToken.None);

        Assert.Equal(["api://serverlessserve-inference/.default"], _credential.Scopes);
    }

    [Fact]
    public async Task GetTokenAsync_BeforeRefreshIsDue_OneCredentialCall()
    {
        var cache = Cache();
        var first = await cache.GetTokenAsync(CancellationToken.None);

        // One hour: refreshed when 12 minutes (a fifth) are left, i.e. from minute 48.
        _time.Advance(TimeSpan.FromMinutes(47));
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(first, await cache.GetTokenAsync(CancellationToken.None));
        }

        Assert.Equal(1, _credential.Calls);
    }

    [Theory]
    [InlineData(24 * 60, 24 * 60 / 5)] // a day: a fifth, 4.8 h
    [InlineData(60, 12)] // an hour: a fifth, 12 min
    [InlineData(20, 5)] // 20 min: 5 minutes before expiry comes first
    [InlineData(8, 4)] // 8 min: never later than half its lifetime
    public async Task GetTokenAsync_RefreshDue_AtAFifthOfTheLifetimeOrFiveMinutesBeforeExpiry(int lifetimeMinutes, double leadMinutes)
    {
        _credential.Lifetime = TimeSpan.FromMinutes(lifetimeMinutes);
        var cache = Cache();
        await cache.GetTokenAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(lifetimeMinutes - leadMinutes) - TimeSpan.FromSeconds(1));
        await cache.GetTokenAsync(CancellationToken.None);
        Assert.Equal(1, _credential.Calls);

        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.GetTokenAsync(CancellationToken.None);
        await WaitUntil(() => _credential.Calls == 2);
    }

    /// <summary>
    /// A token the inference app refused (401) is refreshed at once, in the background, while still handed out; a
    /// token other than the current one (an older request's) changes nothing, and a refusal of the new token waits out
    /// the retry interval. Before 2026-12-07 a refused token was sent until its scheduled refresh.
    /// </summary>
    [Fact]
    public async Task Refused_CurrentToken_RefreshedAtOnce()
    {
        var cache = Cache();
        var first = await cache.GetTokenAsync(CancellationToken.None);

        cache.Refused("another token");
        Assert.Equal(first, await cache.GetTokenAsync(CancellationToken.None));
        Assert.Equal(1, _credential.Calls);

        cache.Refused(first);
        Assert.Equal(first, await cache.GetTokenAsync(CancellationToken.None));
        await WaitUntil(() => cache.GetTokenAsync(CancellationToken.None).AsTask().Result != first);
        Assert.Equal(2, _credential.Calls);

        var second = await cache.GetTokenAsync(CancellationToken.None);
        cache.Refused(second);
        Assert.Equal(second, await cache.GetTokenAsync(CancellationToken.None));
        await Task.Delay(50);
        Assert.Equal(2, _credential.Calls); // within RetryAfter (10 s) of the last refusal: no new try
        _time.Advance(TimeSpan.FromSeconds(10));
        cache.Refused(second);
        await cache.GetTokenAsync(CancellationToken.None);
        await WaitUntil(() => _credential.Calls == 3);
    }

    [Fact]
    public async Task GetTokenAsync_CredentialSaysRefreshEarlier_RefreshedThen()
    {
        _credential.RefreshOn = _time.GetUtcNow() + TimeSpan.FromMinutes(30);
        var cache = Cache();
        await cache.GetTokenAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(30));
        await cache.GetTokenAsync(CancellationToken.None);

        await WaitUntil(() => _credential.Calls == 2);
    }

    [Fact]
    public async Task GetTokenAsync_RefreshDue_CurrentTokenReturnedAtOnceAndOneRefreshForAll()
    {
        var cache = Cache();
        var first = await cache.GetTokenAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(50));
        _credential.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The refresh is held: every request in the meantime is answered at once with the current token.
        var during = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => cache.GetTokenAsync(CancellationToken.None).AsTask()));
        Assert.All(during, token => Assert.Equal(first, token));
        await WaitUntil(() => _credential.Calls == 2);

        _credential.Gate.SetResult();
        await WaitUntil(async () => await cache.GetTokenAsync(CancellationToken.None) != first);
        Assert.Equal(2, _credential.Calls);
    }

    [Fact]
    public async Task GetTokenAsync_NoTokenYet_ConcurrentRequestsShareOneAcquisition()
    {
        _credential.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cache = Cache();

        var waiting = Enumerable.Range(0, 50).Select(_ => cache.GetTokenAsync(CancellationToken.None).AsTask()).ToList();
        await WaitUntil(() => _credential.Calls == 1);
        Assert.All(waiting, task => Assert.False(task.IsCompleted));
        _credential.Gate.SetResult();

        var tokens = await Task.WhenAll(waiting);
        Assert.Single(tokens.Distinct());
        Assert.Equal(1, _credential.Calls);
    }

    [Fact]
    public async Task GetTokenAsync_BackgroundRefreshFails_CurrentTokenKeptAndRetriedAfterTheInterval()
    {
        var cache = Cache();
        var first = await cache.GetTokenAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(50));
        _credential.Failing = true;

        Assert.Equal(first, await cache.GetTokenAsync(CancellationToken.None));
        await WaitUntil(() => _credential.Calls == 2);
        await Task.Delay(50);

        // Within the retry interval no new attempt, however many requests.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(first, await cache.GetTokenAsync(CancellationToken.None));
        }

        Assert.Equal(2, _credential.Calls);

        _time.Advance(TimeSpan.FromSeconds(10));
        _credential.Failing = false;
        Assert.Equal(first, await cache.GetTokenAsync(CancellationToken.None));
        await WaitUntil(async () => await cache.GetTokenAsync(CancellationToken.None) != first);
        Assert.Equal(3, _credential.Calls);
    }

    [Fact]
    public async Task GetTokenAsync_ExpiredAndTheCredentialFails_Unavailable()
    {
        var cache = Cache();
        await cache.GetTokenAsync(CancellationToken.None);
        _credential.Failing = true;
        _time.Advance(TimeSpan.FromHours(1));

        var error = await Assert.ThrowsAsync<ServiceTokenUnavailableException>(() => cache.GetTokenAsync(CancellationToken.None).AsTask());

        Assert.IsType<Azure.Identity.CredentialUnavailableException>(error.InnerException);
    }

    [Fact]
    public async Task GetTokenAsync_TokenAboutToExpire_NotSentButReplacedFirst()
    {
        var cache = Cache();
        var first = await cache.GetTokenAsync(CancellationToken.None);

        // 20 s left: less than the 30 s margin, so the request waits for a new one rather than send this one.
        _time.Advance(TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(40));

        Assert.NotEqual(first, await cache.GetTokenAsync(CancellationToken.None));
        Assert.Equal(2, _credential.Calls);
    }

    private ServiceTokenCache Cache() => new(
        _credential,
        Microsoft.Extensions.Options.Options.Create(new ServiceTokenOptions { Resource = "api://serverlessserve-inference" }),
        _time,
        NullLogger<ServiceTokenCache>.Instance);

    private static Task WaitUntil(Func<bool> condition) => WaitUntil(() => Task.FromResult(condition()));

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 10 s.");
            await Task.Delay(10);
        }
    }
}
