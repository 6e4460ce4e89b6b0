using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// The gateway's resilience for calls to the inference app, outermost first: retries of transient failures with
/// back-off, a circuit breaker that makes calls fail at once while the app is failing, and a timeout per attempt. The
/// whole call stays inside <see cref="GatewayOptions.InferenceTimeout"/> and the request's deadline.
/// </summary>
internal static class InferenceResilience
{
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
