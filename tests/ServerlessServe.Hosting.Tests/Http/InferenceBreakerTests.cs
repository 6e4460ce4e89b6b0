using System.Net;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Options;
using Answer = ServerlessServe.Hosting.Tests.Http.InferenceStandIn.Answer;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// The gateway's client of the inference app, with its real resilience pipeline (retries, breaker, timeout) as the
/// gateway registers it, over real sockets to a stand-in for the app whose answers the test decides
/// (<see cref="InferenceStandIn"/>): each model has a breaker of its own, so a model that keeps failing (too slow for the
/// attempt timeout, or unloadable) is cut off alone and every other model is still called; and a readiness probe whose
/// breaker is open is "not ready", never an exception.
/// </summary>
public sealed class InferenceBreakerTests
{
    // Longer than any test runs: a breaker that opened stays open until its test ends.
    private static readonly Action<GatewayOptions> LongBreak = options => options.InferenceBreakDuration = TimeSpan.FromSeconds(30);

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
        await using var upstream = await InferenceStandIn.StartAsync(request =>
            Answer.Json(request.Path.Value!.Contains("/models/slow/", StringComparison.Ordinal) ? 503 : 200, "{}"));
        var http = upstream.Http(LongBreak);

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
        await using var upstream = await InferenceStandIn.StartAsync(_ => Answer.Json(503, "{}"));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var client = upstream.Client(LongBreak, time);

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
        await using var upstream = await InferenceStandIn.StartAsync(_ => Answer.Json(200, "{}"));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var client = upstream.Client(LongBreak, time);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => client.IsReadyAsync(default))));
        Assert.All(answers, Assert.True);
        Assert.True(await client.IsReadyAsync(default));
        Assert.Equal(1, upstream.Calls("/v2/health/ready"));

        time.Advance(InferenceClient.ReadinessReuse);
        Assert.True(await client.IsReadyAsync(default));
        Assert.Equal(2, upstream.Calls("/v2/health/ready"));
    }

    /// <summary>
    /// The app's answer cut off part-way (its process died: the connection ends after 1 KiB of the 4 KiB declared): the
    /// service is unavailable (503 with Retry-After), not a 500 from an exception that escaped. Larger than the gateway
    /// may read (the binary encoding of what the element cap allows, about 33 MiB; here a chunked body that runs on until
    /// the gateway stops reading): a failure, the same on every try (before 2026-12-06 a 503, which a job's item tried six
    /// times); never the 413 "request body exceeds" that told the caller its own small request was too large.
    /// </summary>
    [Theory]
    [InlineData("cut off", Core.Pipeline.RefusalKind.Unavailable, "inference service unavailable")]
    [InlineData("too large", Core.Pipeline.RefusalKind.Failed, "the model's output is too large to return")]
    public async Task AnswerCutOffOrTooLarge_Refused(string answer, Core.Pipeline.RefusalKind kind, string message)
    {
        await using var upstream = await InferenceStandIn.StartAsync(_ => answer == "cut off"
            ? new Answer(200, Spaces(4 * 1024)) { CutOffAfter = 1024 }
            : new Answer(200, Spaces(64 * 1024)) { Endless = true });
        var client = upstream.Client();

        var refused = await Assert.ThrowsAsync<Core.Pipeline.RefusedException>(() => client.InferAsync(InferenceStandIn.CreditRisk(), InferenceStandIn.CreditRiskRequest(), "req-1", default));

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
        await using var upstream = await InferenceStandIn.StartAsync(_ => Answer.V2(encoded));
        var client = upstream.Client();

        var response = await client.InferAsync(InferenceStandIn.CreditRisk(), InferenceStandIn.CreditRiskRequest(), "req-1", default);

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
        var texts = new Tensor("texts", TensorDataType.Bytes, [caps.MaxBytesElementsPerRequest + 1], Enumerable.Range(0, caps.MaxBytesElementsPerRequest + 1).Select(_ => "a"u8.ToArray()).ToArray());
        var tooMany = V2Json.WriteResponse(new InferenceResponse { ModelName = "credit-risk", Outputs = [texts] }, binaryAll: true, binaryOutputs: null);

        // The request named "too-many" is answered with the BYTES elements past the cap; any other, with the outputs above.
        await using var upstream = await InferenceStandIn.StartAsync(request => Answer.V2(request.Headers["x-request-id"] == "too-many" ? tooMany : encoded));
        var client = upstream.Client();

        var response = await client.InferAsync(InferenceStandIn.CreditRisk(), InferenceStandIn.CreditRiskRequest(), "req-1", default);

        Assert.Equal(caps.MaxTensors + 3, response.Outputs.Count);
        Assert.Equal([21, 512, 512], response.Outputs[0].Shape);
        Assert.Equal(caps.MaxBytesElementLength + 1, response.Outputs[1].As<byte[]>()[0].Length);

        var refused = await Assert.ThrowsAsync<Core.Pipeline.RefusedException>(() => client.InferAsync(InferenceStandIn.CreditRisk(), InferenceStandIn.CreditRiskRequest(), "too-many", default));
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
        (string, string)[] scoped = [(V2Results.RefusalScopeHeader, V2Results.VersionScope), ("Retry-After", "1")];
        await using var upstream = await InferenceStandIn.StartAsync(_ => Answer.Json(
            503,
            """{"error":"inference unavailable"}""",
            unservable ? [.. scoped, (V2Results.UnservableHeader, "1")] : scoped));
        var client = upstream.Client();

        var refused = await Assert.ThrowsAsync<Core.Pipeline.RefusedException>(() => client.InferAsync(InferenceStandIn.CreditRisk(), InferenceStandIn.CreditRiskRequest(), "req-1", default));

        Assert.True(refused.Refusal.VersionScoped);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Refusal.RetryAfter);
        Assert.Equal(unservable ? Core.Artifacts.ModelCatalog.UnservableReason : null, refused.Refusal.Reason);
    }

    private static byte[] Spaces(int count) => Enumerable.Repeat((byte)' ', count).ToArray();
}
