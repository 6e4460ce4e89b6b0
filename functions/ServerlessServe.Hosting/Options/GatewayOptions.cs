using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>The gateway's view of the inference app (section <c>ServerlessServe:Gateway</c>).</summary>
internal sealed class GatewayOptions : IValidatableObject
{
    public const string SectionName = "ServerlessServe:Gateway";

    /// <summary>
    /// Base URL of the inference app including its route prefix, e.g. <c>http://127.0.0.1:7072/api</c>. Required; https
    /// unless on loopback: every call carries the gateway's service token, the one credential the inference app takes,
    /// which must not cross a network in clear text (before 2026-12-07 only the Bicep's https kept it off one).
    /// </summary>
    [Required]
    public Uri? InferenceBaseUrl { get; set; }

    /// <summary>
    /// Longest time for one inference call, its retries included (within the request's own deadline,
    /// <c>ServerlessServe:Deadlines:Request</c>, which is usually shorter). Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan InferenceTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest time for one attempt of an inference call. Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan InferenceAttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Retries of an inference call that failed transiently (the app unreachable, 502, 503, 504, an attempt timed out),
    /// with exponential back-off from 50 ms and jitter. Never for another answer (a 4xx or 500 is the model's). Default 2.
    /// </summary>
    [Range(0, 10)]
    public int InferenceRetries { get; set; } = 2;

    /// <summary>
    /// How long calls to the inference app fail at once (503 with <c>Retry-After</c>) after the circuit breaker opened:
    /// at least half of at least 10 calls within 10 s failed transiently. Default 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan InferenceBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (InferenceBaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && !(url.Scheme == Uri.UriSchemeHttp && url.IsLoopback))))
        {
            yield return new ValidationResult(
                $"{SectionName}:InferenceBaseUrl must be an absolute https URL (http is accepted for a loopback address only): the service token goes with every call.",
                [nameof(InferenceBaseUrl)]);
        }
    }
}
