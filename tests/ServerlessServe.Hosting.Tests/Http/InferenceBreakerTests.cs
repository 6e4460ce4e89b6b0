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
    [InlineData("https://inference.test/api/v2/models/credit-risk/versions/1/infer", "model:credit-risk")]
    [InlineData("https://inference.test/api/v2/models/credit-risk/infer", "model:credit-risk")]
    [InlineData("https://inference.test/v2/models/a%2Fb/versions/2/infer", "model:a%2Fb")]
    [InlineData("https://inference.test/api/v2/health/ready", InferenceResilience.AppKey)]
    [InlineData("https://inference.test/api/v2/models/", InferenceResilience.AppKey)]
    [InlineData("https://inference.test/api/v2/models", InferenceResilience.AppKey)]
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

    /// <summary>
    /// The app's answer cut off part-way (its process died): the service is unavailable (503 with Retry-After), not a 500
    /// from an exception that escaped. Larger than the gateway may read (the binary encoding of what the element cap
    /// allows, about 33 MiB): a failure, the same on every try (before 2026-12-06 a 503, which a job's item tried six
    /// times); never the 413 "request body exceeds" that told the caller its own small request was too large.
    /// </summary>
    [Theory]
    [InlineData("cut off", Core.Pipeline.RefusalKind.Unavailable, "inference service unavailable")]
    [InlineData("too large", Core.Pipeline.RefusalKind.Failed, "the model's output is too large to return")]
    public async Task AnswerCutOffOrTooLarge_Refused(string answer, Core.Pipeline.RefusalKind kind, string message)
    {
        using var provider = BodyServices(new BodyUpstream(answer == "cut off"));
        var client = Client(provider, TimeProvider.System);

        var refused = await Assert.ThrowsAsync<Core.Pipeline.RefusedException>(() => client.InferAsync(CreditRisk(), CreditRiskRequest(), "req-1", default));

        Assert.Equal(kind, refused.Kind);
        Assert.Equal(message, refused.Message);
    }

    /// <summary>
    /// An output larger than a caller's body may be (16 MiB) but within the binary limit: read (found in review,
    /// 2026-12-06: a 4M-element FP32 output, as a segmentation mask is, answered 503 "inference service unavailable").
    /// </summary>
    [Fact]
    public async Task AnswerLargerThanACallersBody_WithinTheBinaryLimit_Read()
    {
        var output = new Tensor("scores", TensorDataType.Fp32, [4 * 1024 * 1024], new float[4 * 1024 * 1024]);
        var encoded = V2Json.WriteResponse(new InferenceResponse { ModelName = "credit-risk", Outputs = [output] }, binaryAll: true, binaryOutputs: null);
        Assert.True(encoded.Body.Length > new ProtocolLimits().MaxBodyBytes);
        using var provider = BodyServices(new EncodedUpstream(encoded));
        var client = Client(provider, TimeProvider.System);

        var response = await client.InferAsync(CreditRisk(), CreditRiskRequest(), "req-1", default);

        Assert.Equal([4 * 1024 * 1024], Assert.Single(response.Outputs).Shape);
    }

    /// <summary>
    /// Outputs past a caller's request caps but within the body limit are read: more elements than a request may send
    /// (a 21×512×512 FP32 mask), a longer BYTES element, more outputs, a longer name (found in review 2026-12-07: each
    /// was 503 "inference service unavailable", run again by a job on every retry). More BYTES elements than the cap is
    /// a failure, the same on every try, not the service unavailable.
    /// </summary>
    [Fact]
    public async Task Answer_PastTheRequestCapsWithinTheBodyLimit_Read()
    {
        var caps = new ProtocolLimits();
        var mask = new Tensor("mask", TensorDataType.Fp32, [21, 512, 512], new float[21 * 512 * 512]);
        var image = new Tensor("image", TensorDataType.Bytes, [1], new[] { new byte[caps.MaxBytesElementLength + 1] });
        var many = Enumerable.Range(0, caps.MaxTensors).Select(i => new Tensor("o" + i, TensorDataType.Fp32, [1], new[] { 1f }));
        var named = new Tensor(new string('n', caps.MaxNameLength + 1), TensorDataType.Fp32, [1], new[] { 2f });
        var encoded = V2Json.WriteResponse(new InferenceResponse { ModelName = "credit-risk", Outputs = [mask, image, .. many, named] }, binaryAll: true, binaryOutputs: null);
        Assert.True(encoded.Body.Length <= caps.ResponseBodyLimit);
        using var provider = BodyServices(new EncodedUpstream(encoded));
        var client = Client(provider, TimeProvider.System);

        var response = await client.InferAsync(CreditRisk(), CreditRiskRequest(), "req-1", default);

        Assert.Equal(caps.MaxTensors + 3, response.Outputs.Count);
        Assert.Equal([21, 512, 512], response.Outputs[0].Shape);
        Assert.Equal(caps.MaxBytesElementLength + 1, response.Outputs[1].As<byte[]>()[0].Length);

        var texts = new Tensor("texts", TensorDataType.Bytes, [caps.MaxBytesElementsPerRequest + 1], Enumerable.Range(0, caps.MaxBytesElementsPerRequest + 1).Select(_ => "a"u8.ToArray()).ToArray());
        using var tooMany = BodyServices(new EncodedUpstream(V2Json.WriteResponse(new InferenceResponse { ModelName = "credit-risk", Outputs = [texts] }, binaryAll: true, binaryOutputs: null)));
        var refused = await Assert.ThrowsAsync<Core.Pipeline.RefusedException>(() => Client(tooMany, TimeProvider.System).InferAsync(CreditRisk(), CreditRiskRequest(), "req-1", default));
        Assert.Equal(Core.Pipeline.RefusalKind.Failed, refused.Kind);
    }

    /// <summary>
    /// A version-scoped 503 from the inference app that says when to try again (a run out of memory there) is the
    /// version unavailable with that Retry-After; the one that says the version cannot be loaded is told apart.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task VersionScoped503_RetryAfterPassedOn_UnservableToldApart(bool unservable)
    {
        using var provider = BodyServices(new ScopedUpstream(unservable));
        var client = Client(provider, TimeProvider.System);

        var refused = await Assert.ThrowsAsync<Core.Pipeline.RefusedException>(() => client.InferAsync(CreditRisk(), CreditRiskRequest(), "req-1", default));

        Assert.True(refused.Refusal.VersionScoped);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Refusal.RetryAfter);
        Assert.Equal(unservable ? Core.Artifacts.ModelCatalog.UnservableReason : null, refused.Refusal.Reason);
    }

    /// <summary>A 503 scoped to the version with Retry-After: 1, as the inference app answers a run out of memory.</summary>
    private sealed class ScopedUpstream(bool unservable) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("{\"error\":\"inference unavailable\"}") };
            response.Headers.TryAddWithoutValidation(V2Results.RefusalScopeHeader, V2Results.VersionScope);
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
            if (unservable)
            {
                response.Headers.TryAddWithoutValidation(V2Results.UnservableHeader, "1");
            }

            return Task.FromResult(response);
        }
    }

    internal static Core.Artifacts.VerifiedModelVersion CreditRisk()
    {
        var package = Core.Tests.Artifacts.TestPackages.CreditRisk("credit-risk", "1");
        return new Core.Artifacts.VerifiedModelVersion(package.Manifest, package.ManifestDigest, Core.Policy.PolicyLoader.Parse(Local.Samples.SampleModels.GetPolicy(Local.Samples.CreditRiskSample.Name)));
    }

    internal static InferenceRequest CreditRiskRequest() =>
        V2Json.ReadRequest("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}"""u8.ToArray(), null, new ProtocolLimits());

    private static ServiceProvider BodyServices(HttpMessageHandler upstream)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHttpClient(InferenceClient.HttpClientName, c => c.BaseAddress = new Uri("https://inference.test/api/"))
            .ConfigurePrimaryHttpMessageHandler(() => upstream);
        return services.BuildServiceProvider();
    }

    /// <summary>A 200 with a binary V2 response, as the inference app sends it.</summary>
    private sealed class EncodedUpstream(EncodedBody encoded) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(encoded.Body) };
            response.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return Task.FromResult(response);
        }
    }

    /// <summary>A 200 whose body breaks after 1 KiB, or runs on past any limit.</summary>
    private sealed class BodyUpstream(bool cutOff) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new Body(cutOff)) });

        private sealed class Body(bool cutOff) : Stream
        {
            private long _sent;

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => _sent; set => throw new NotSupportedException(); }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (cutOff && _sent >= 1024)
                {
                    throw new IOException("injected: the connection was reset mid-body");
                }

                var n = Math.Min(count, 64 * 1024);
                Array.Fill(buffer, (byte)' ', offset, n);
                _sent += n;
                return n;
            }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
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
            InferenceBaseUrl = new Uri("https://inference.test/api/"),
            InferenceBreakDuration = TimeSpan.FromSeconds(30),
        }));
        var http = services.AddHttpClient(InferenceClient.HttpClientName, c => c.BaseAddress = new Uri("https://inference.test/api/"))
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
