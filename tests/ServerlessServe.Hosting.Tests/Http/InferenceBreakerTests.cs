using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Hosting.Tests.Identity;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// The gateway's client of the inference app, with its real resilience pipeline (retries, breaker, timeout) as the
/// gateway registers it, in front of an upstream whose answers the test decides: each model has a breaker of its own,
/// so a model that keeps failing (too slow for the attempt timeout, or unloadable) is cut off alone and every other
/// model is still called; and a readiness probe whose breaker is open is "not ready", never an exception.
/// </summary>
public sealed class InferenceBreakerTests
{
    [Theory]
    [InlineData("http://inference.test/api/v2/models/credit-risk/versions/1/infer", "model:credit-risk")]
    [InlineData("http://inference.test/api/v2/models/credit-risk/infer", "model:credit-risk")]
    [InlineData("http://inference.test/v2/models/a%2Fb/versions/2/infer", "model:a%2Fb")]
    [InlineData("http://inference.test/api/v2/health/ready", InferenceResilience.AppKey)]
    [InlineData("http://inference.test/api/v2/models/", InferenceResilience.AppKey)]
    [InlineData("http://inference.test/api/v2/models", InferenceResilience.AppKey)]
    public void PipelineKey_TheModelNamed_ElseTheApp(string url, string expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url));
        Assert.Equal(expected, InferenceResilience.PipelineKey(request));
    }

    [Fact]
    public async Task OneModelFailing_OpensItsOwnBreaker_AnotherModelStillCalled()
    {
        var upstream = new Upstream(path => path.Contains("/models/slow/", StringComparison.Ordinal) ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
        using var services = Services(upstream);
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(InferenceClient.HttpClientName);

        // Calls to the failing model until its breaker opens (10 outcomes in its window, all failures).
        var opened = false;
        for (var i = 0; i < 2 * InferenceResilience.BreakerMinimumThroughput && !opened; i++)
        {
            try
            {
                using var response = await http.PostAsync(new Uri("v2/models/slow/versions/1/infer", UriKind.Relative), null);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            }
            catch (BrokenCircuitException)
            {
                opened = true;
            }
        }

        Assert.True(opened);
        var callsWhenOpened = upstream.Calls("/models/slow/");
        await Assert.ThrowsAsync<BrokenCircuitException>(() => http.PostAsync(new Uri("v2/models/slow/versions/1/infer", UriKind.Relative), null));
        Assert.Equal(callsWhenOpened, upstream.Calls("/models/slow/"));

        // Another model, the same client, at once: its own breaker is closed, and the call reaches the app.
        for (var i = 0; i < 3; i++)
        {
            using var other = await http.PostAsync(new Uri("v2/models/credit-risk/versions/1/infer", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        Assert.Equal(3, upstream.Calls("/models/credit-risk/"));
    }

    [Fact]
    public async Task ReadinessProbe_BreakerOpen_NotReady_NoException()
    {
        var upstream = new Upstream(_ => HttpStatusCode.ServiceUnavailable);
        using var services = Services(upstream);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var client = Client(services, time);

        // Each probe a fresh one (the test's clock moves past the reuse window between them).
        for (var i = 0; i < 2 * InferenceResilience.BreakerMinimumThroughput; i++)
        {
            Assert.False(await client.IsReadyAsync(default));
            time.Advance(InferenceClient.ReadinessReuse);
        }

        // The probe's breaker opened on the way (fewer calls reached the app than probes were made, with retries).
        Assert.True(upstream.Calls("/v2/health/ready") < 2 * InferenceResilience.BreakerMinimumThroughput * 3);
    }

    [Fact]
    public async Task ReadinessProbe_ManyRequestsAtOnce_OneCallToTheApp_UntilTheReuseWindowEnds()
    {
        var upstream = new Upstream(_ => HttpStatusCode.OK);
        using var services = Services(upstream);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var client = Client(services, time);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => client.IsReadyAsync(default))));
        Assert.All(answers, Assert.True);
        Assert.True(await client.IsReadyAsync(default));
        Assert.Equal(1, upstream.Calls("/v2/health/ready"));

        time.Advance(InferenceClient.ReadinessReuse);
        Assert.True(await client.IsReadyAsync(default));
        Assert.Equal(2, upstream.Calls("/v2/health/ready"));
    }

    private static InferenceClient Client(ServiceProvider services, TimeProvider time) => new(
        services.GetRequiredService<IHttpClientFactory>().CreateClient(InferenceClient.HttpClientName),
        new ServiceTokenCache(new ScriptedCredential(time), Microsoft.Extensions.Options.Options.Create(new ServiceTokenOptions { Resource = "api://inference" }), time, NullLogger<ServiceTokenCache>.Instance),
        new ProtocolLimits(),
        NullLogger<InferenceClient>.Instance,
        time);

    private static ServiceProvider Services(Upstream upstream)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IOptions<GatewayOptions>>(Microsoft.Extensions.Options.Options.Create(new GatewayOptions
        {
            InferenceBaseUrl = new Uri("http://inference.test/api/"),
            InferenceBreakDuration = TimeSpan.FromSeconds(30),
        }));
        var http = services.AddHttpClient(InferenceClient.HttpClientName, c => c.BaseAddress = new Uri("http://inference.test/api/"))
            .ConfigurePrimaryHttpMessageHandler(() => upstream);
        InferenceResilience.AddTo(http);
        return services.BuildServiceProvider();
    }

    /// <summary>The inference app's answers, decided per path by the test, and the calls that reached it.</summary>
    private sealed class Upstream(Func<string, HttpStatusCode> answer) : HttpMessageHandler
    {
        private readonly ConcurrentQueue<string> _paths = new();

        public int Calls(string fragment) => _paths.Count(p => p.Contains(fragment, StringComparison.Ordinal));

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            _paths.Enqueue(path);
            return Task.FromResult(new HttpResponseMessage(answer(path)) { Content = new StringContent("{}") });
        }
    }
}
