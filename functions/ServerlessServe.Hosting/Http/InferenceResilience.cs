using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// The gateway's resilience for calls to the inference app, outermost first: retries of transient failures with
/// back-off, a circuit breaker that makes calls fail at once while the app is failing, and a timeout per attempt. The
/// whole call stays inside <see cref="GatewayOptions.InferenceTimeout"/> and the request's deadline. One pipeline, so
/// one breaker, per model (<see cref="PipelineKey"/>): a model that fails or is too slow opens its own breaker, never
/// another model's.
/// </summary>
internal static class InferenceResilience
{
    /// <summary>The pipeline key of every call that is not about one model (the readiness probe).</summary>
    public const string AppKey = "app";

    /// <summary>Adds the pipeline to <paramref name="http"/>, one instance per model (<see cref="PipelineKey"/>).</summary>
    public static void AddTo(IHttpClientBuilder http)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.AddResilienceHandler(http.Name, static (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value;
            Configure(pipeline, options);
        }).SelectPipelineBy(static _ => PipelineKey);
    }

    /// <summary>
    /// Which pipeline, so which breaker, a call to the inference app goes through: the model's, for
    /// <c>…/v2/models/{name}/…</c> (its escaped name, as the gateway sent it: only models the gateway resolved are ever
    /// named, so the pipelines are as many as the models in the store); <see cref="AppKey"/> for anything else. Per
    /// model, because the way a caller can make calls fail without the app failing is through one model: one that is
    /// slow enough for the attempt timeout (a caller's large inputs, many at once), or one the app cannot load. Counted
    /// in one breaker for all, that opened it for every other model and caller. When the app itself fails, each model's
    /// breaker opens on its own calls.
    /// </summary>
    public static string PipelineKey(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        const string Models = "/v2/models/";
        var path = request.RequestUri is { IsAbsoluteUri: true } uri ? uri.AbsolutePath : "/" + request.RequestUri?.OriginalString;
        var at = path.IndexOf(Models, StringComparison.Ordinal);
        if (at < 0)
        {
            return AppKey;
        }

        var start = at + Models.Length;
        var end = path.IndexOf('/', start);
        var name = end < 0 ? path[start..] : path[start..end];
        return name.Length == 0 ? AppKey : "model:" + name;
    }

    /// <summary>Calls with fewer than this many outcomes in the sampling window never open the breaker.</summary>
    public const int BreakerMinimumThroughput = 10;

    /// <summary>The window over which the breaker counts failures.</summary>
    public static readonly TimeSpan BreakerSamplingDuration = TimeSpan.FromSeconds(10);

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, GatewayOptions options)
    {
        if (options.InferenceRetries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.InferenceRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(50),
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            });
        }

        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5,
            MinimumThroughput = BreakerMinimumThroughput,
            SamplingDuration = BreakerSamplingDuration,
            BreakDuration = options.InferenceBreakDuration,
            ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
        });
        pipeline.AddTimeout(options.InferenceAttemptTimeout);
    }

    /// <summary>
    /// Worth another try, and a sign the app is failing: it could not be reached, an attempt timed out, or it said it is
    /// overloaded or starting (502, 503, 504). A 4xx or a 500 is the answer to this request and is never retried; so is
    /// a 503 that says it concerns only the version asked for (<see cref="IsVersionScoped"/>): the app answered, and a
    /// caller asking again and again for a version that cannot serve must not open the breaker for every other caller.
    /// </summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { StatusCode: HttpStatusCode.ServiceUnavailable } response } => !IsVersionScoped(response),
        { Result.StatusCode: HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout } => true,
        _ => false,
    };

    /// <summary>True when <paramref name="response"/> carries the inference app's version-scoped refusal header.</summary>
    public static bool IsVersionScoped(HttpResponseMessage response) =>
        response.Headers.TryGetValues(V2Results.RefusalScopeHeader, out var values)
        && values.Contains(V2Results.VersionScope, StringComparer.Ordinal);
}
