using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;
using ServerlessServe.Hosting.Identity;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// The gateway's client of the inference app: V2 with the binary tensor extension both ways, a token of the gateway's
/// managed identity on every call (503 when none can be had), the version pinned to the one the gateway verified. Any failure becomes a safe refusal
/// (<see cref="RefusalMapping.FromUpstream"/>).
/// </summary>
internal sealed class InferenceClient : IInferenceBackend
{
    public const string HttpClientName = "inference";

    /// <summary>
    /// How long one readiness probe of the inference app answers for: every readiness request within it (and while it
    /// is in flight) shares it. The gateway's readiness route is anonymous, so without this each anonymous request made
    /// a call to the inference app (three, with retries, while the app answered 503).
    /// </summary>
    public static readonly TimeSpan ReadinessReuse = TimeSpan.FromSeconds(1);

    private readonly HttpClient _http;
    private readonly ServiceTokenCache _tokens;
    private readonly ProtocolLimits _limits;
    private readonly ProtocolLimits _responseLimits;
    private readonly ILogger<InferenceClient> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _probeLock = new();
    private Task<bool>? _probe;
    private long _probeStarted;

    public InferenceClient(HttpClient http, ServiceTokenCache tokens, ProtocolLimits limits, ILogger<InferenceClient> logger, TimeProvider? time = null)
    {
        _http = http;
        _tokens = tokens;
        _limits = limits;

        // The app's answer may be as large as its binary encoding of what the element cap allows: larger than a caller's
        // body may be (a segmentation mask of 21×512×512 FP32 is 22 MB), and its outputs are held to what fits in that,
        // not to a caller's request caps (ProtocolLimits.ForResponses).
        _responseLimits = limits.ForResponses();
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public async Task<InferenceResponse> InferAsync(VerifiedModelVersion model, InferenceRequest request, string requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        string token;
        try
        {
            token = await _tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ServiceTokenUnavailableException)
        {
            // Logged where it failed (1522); the caller's request is fine, the gateway cannot vouch for itself.
            throw RefusedException.Unavailable("inference service unavailable");
        }

        // Binary both ways; the inputs go from their own arrays to the connection, never assembled into one body first.
        // Sent chunked, without a Content-Length: the Functions host in front of the inference app reads a body with a
        // length in full (to a temporary file past 30 KiB) before the worker sees it, about 9 ms for an image, and
        // passes a chunked one through as it arrives (docs/performance.md, "The Functions host reads every body with a
        // length"). Standalone it makes no measurable difference.
        var content = new V2BinaryRequestContent(request, binaryOutputs: true, declareLength: false);
        var path = $"v2/models/{Uri.EscapeDataString(model.Manifest.Name)}/versions/{Uri.EscapeDataString(model.Manifest.Version)}/infer";
        using var message = new HttpRequestMessage(HttpMethod.Post, path);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        message.Headers.TryAddWithoutValidation("x-request-id", requestId);
        message.Content = content;
        message.Headers.TryAddWithoutValidation(BodyResult.InferenceHeaderContentLength, content.HeaderLength.ToString(System.Globalization.CultureInfo.InvariantCulture));

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenCircuitException ex)
        {
            // The breaker is open (InferenceResilience): fail at once, and say when to try again.
            Log.InferenceCircuitOpen(_logger);
            throw new RefusedException(Refusal.Unavailable("inference service unavailable") with { RetryAfter = ex.RetryAfter ?? TimeSpan.FromSeconds(1) });
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutRejectedException && !cancellationToken.IsCancellationRequested)
        {
            Log.InferenceUnreachable(_logger, ex.GetType().Name);
            throw new RefusedException(Refusal.Unavailable("inference service unavailable") with { RetryAfter = TimeSpan.FromSeconds(1) });
        }

        using (response)
        {
            // The app's answer read whole: one it cuts off (it died mid-body) is the service unavailable, as one that never
            // came is. One above the limit is an output the gateway cannot take: the same on every try, so a failure, not
            // the service unavailable (a job's item would otherwise be run again five times), nor the caller's body too large;
            // so is a whole 200 that does not read as a V2 response (below).
            byte[] body;
            try
            {
                body = await HttpBodyReader.ReadLimitedAsync(
                    await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false),
                    response.Content.Headers.ContentLength,
                    _responseLimits.MaxBodyBytes,
                    cancellationToken).ConfigureAwait(false);
            }
            catch (RefusedException ex) when (ex.Refusal.Kind == RefusalKind.TooLarge)
            {
                Log.InferenceBadResponse(_logger);
                throw new RefusedException(Refusal.Failed with { Message = "the model's output is too large to return" });
            }
            catch (RefusedException)
            {
                Log.InferenceBadResponse(_logger);
                throw RefusedException.Unavailable("inference service unavailable");
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Log.InferenceUnreachable(_logger, ex.GetType().Name);
                throw new RefusedException(Refusal.Unavailable("inference service unavailable") with { RetryAfter = TimeSpan.FromSeconds(1) });
            }

            if (response.StatusCode == HttpStatusCode.OK)
            {
                int? responseHeaderLength = response.Headers.TryGetValues(BodyResult.InferenceHeaderContentLength, out var values)
                    && int.TryParse(values.FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
                try
                {
                    return V2Json.ReadResponse(body, responseHeaderLength, _responseLimits);
                }
                catch (RefusedException ex) when (ex.Refusal.Kind == RefusalKind.TooLarge)
                {
                    // More than even the response limits take: the same on every try, so a failure, not the service
                    // unavailable (which a job's item would run again on).
                    Log.InferenceBadResponse(_logger);
                    throw new RefusedException(Refusal.Failed with { Message = "the model's output is too large to return" });
                }
                catch (RefusedException)
                {
                    // A whole answer the gateway cannot read (an output of more dimensions than it takes, a body that is
                    // not V2): the same on every try, so a failure too. As the service unavailable (before 2026-12-08) it
                    // was retried by callers, and a job's item ran again five times.
                    Log.InferenceBadResponse(_logger);
                    throw new RefusedException(Refusal.Failed with { Message = "the model's output cannot be returned" });
                }
            }

            // A version-scoped 503: the app is up and will not serve this version (it failed verification there, or was
            // withdrawn since the gateway resolved it); the caller learns that, not that the service is down.
            var versionScoped = response.StatusCode == HttpStatusCode.ServiceUnavailable && InferenceResilience.IsVersionScoped(response);

            // The app holds as many bodies as it may: the service busy, tried again soon (a job's item is), not this version
            // unavailable, which would end the item; logged as what it is (1205), not as a version that cannot serve.
            if (versionScoped && response.Headers.TryGetValues(V2Results.BusyHeader, out var busy) && busy.Contains("1", StringComparer.Ordinal))
            {
                Log.InferenceBusy(_logger, model.Manifest.Name, model.Manifest.Version);
                throw new RefusedException(Refusal.Unavailable("inference busy") with
                {
                    RetryAfter = response.Headers.RetryAfter?.Delta is { } wait && wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1),
                });
            }
            if (versionScoped)
            {
                Log.InferenceRefusedVersion(_logger, model.Manifest.Name, model.Manifest.Version);
            }
            else
            {
                Log.InferenceFailed(_logger, (int)response.StatusCode);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    _tokens.Refused(token);
                }
            }

            var refusal = versionScoped && response.Headers.TryGetValues(V2Results.UnservableHeader, out var unservable) && unservable.Contains("1", StringComparer.Ordinal)
                ? Core.Artifacts.ModelCatalog.VersionUnservable
                : RefusalMapping.FromUpstream((int)response.StatusCode, versionScoped);

            // A version-scoped 503 that says when to try again (memory or the device ran out there) passes it on.
            throw new RefusedException(versionScoped && response.Headers.RetryAfter?.Delta is { } retryAfter && retryAfter > TimeSpan.Zero
                ? refusal with { RetryAfter = retryAfter }
                : refusal);
        }
    }

    /// <summary>
    /// True when the inference app answers its readiness probe; false when it answers otherwise, cannot be reached,
    /// times out, or the probe's breaker is open (<see cref="InferenceResilience.AppKey"/>): never an exception, so the
    /// gateway's readiness answers 503 not ready, not 500. One probe answers every request for
    /// <see cref="ReadinessReuse"/> after it starts, and all that come while it is in flight; each request still stops
    /// waiting when its own <paramref name="cancellationToken"/> ends.
    /// </summary>
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        Task<bool> probe;
        lock (_probeLock)
        {
            if (_probe is null || (_probe.IsCompleted && _time.GetElapsedTime(_probeStarted) >= ReadinessReuse))
            {
                _probeStarted = _time.GetTimestamp();
                _probe = ProbeAsync();
            }

            probe = _probe;
        }

        return probe.WaitAsync(cancellationToken);
    }

    // Not tied to any one request: bounded by the pipeline's attempt timeout and the client's overall timeout.
    private async Task<bool> ProbeAsync()
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("v2/health/ready", UriKind.Relative), CancellationToken.None).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutRejectedException or BrokenCircuitException)
        {
            return false;
        }
    }
}
