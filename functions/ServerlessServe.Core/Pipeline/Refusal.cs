namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// A stage's refusal: a <see cref="RefusalKind"/> and a message that is safe to show an untrusted caller (it never
/// holds a request value, a stack trace or an internal name).
/// </summary>
public sealed record Refusal(RefusalKind Kind, string Message)
{
    /// <summary>For a rate-limited or unavailable refusal: when the caller may try again (the <c>Retry-After</c> header).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static Refusal Invalid(string message) => new(RefusalKind.Invalid, message);

    public static Refusal Unauthenticated(string message) => new(RefusalKind.Unauthenticated, message);

    public static Refusal Forbidden(string message) => new(RefusalKind.Forbidden, message);

    /// <summary>
    /// The one 403 every caller-facing refusal of access gives (a caller without a role the model admits, a blocked
    /// caller, a honey subject), so the answer does not tell which check refused; the audit record and security event
    /// say why.
    /// </summary>
    public static Refusal Denied { get; } = new(RefusalKind.Forbidden, "the caller may not use this model");

    /// <summary>
    /// The one 401 every refused bearer token gets, whichever check failed (signature, key, issuer, audience, lifetime,
    /// shape); the log and the <c>serverlessserve.auth.refusals</c> metric say why.
    /// </summary>
    public static Refusal InvalidToken { get; } = new(RefusalKind.Unauthenticated, "a valid bearer token is required");

    /// <summary>The refusal while the token issuer's metadata cannot be read: the caller's token may well be fine.</summary>
    public static Refusal IssuerUnavailable { get; } = new(RefusalKind.Unavailable, "authentication is unavailable; try again later");

    public static Refusal NotFound(string message) => new(RefusalKind.NotFound, message);

    public static Refusal TooLarge(string message) => new(RefusalKind.TooLarge, message);

    public static Refusal UnsupportedMediaType(string message) => new(RefusalKind.UnsupportedMediaType, message);

    public static Refusal RateLimited(string message) => new(RefusalKind.RateLimited, message);

    public static Refusal Unavailable(string message) => new(RefusalKind.Unavailable, message);

    /// <summary>The body did not arrive in time (stalled, or below the minimum data rate).</summary>
    public static Refusal TimedOut { get; } = new(RefusalKind.TimedOut, "request body not received in time");

    /// <summary>The caller went away.</summary>
    public static Refusal Cancelled { get; } = new(RefusalKind.Cancelled, "request cancelled");

    /// <summary>An unexpected failure; the caller learns nothing more.</summary>
    public static Refusal Failed { get; } = new(RefusalKind.Failed, "internal error");

    /// <summary>
    /// Why, for the audit record and never for the caller: a name from a fixed vocabulary (e.g. <c>replay</c> for a
    /// refused request signature), or null. Two refusals differing only here answer the caller identically.
    /// </summary>
    public string? Reason { get; init; }

    /// <summary>
    /// True when the refusal concerns only the model version asked for (it cannot serve: withdrawn, revoked, altered in
    /// storage): the service that gave it is healthy, and asking again soon will not help. The gateway neither retries
    /// such an answer of the inference app nor counts it against the app's circuit breaker, so one caller asking for an
    /// unservable version cannot make the service unavailable to everyone else. Answered with the
    /// <c>x-serverlessserve-refusal-scope: version</c> header.
    /// </summary>
    public bool VersionScoped { get; init; }

    /// <summary>
    /// The verdict word recorded for this refusal: <c>refused:{kind}</c>, e.g. <c>refused:invalid</c>, or
    /// <c>refused:{kind}:{reason}</c> when it has a <see cref="Reason"/>.
    /// </summary>
    public string Verdict => Reason is null ? "refused:" + KindName : "refused:" + KindName + ":" + Reason;

    /// <summary>The kind in the audit record's vocabulary: lower-case with underscores, e.g. <c>too_large</c>.</summary>
    public string KindName => Names.Of(Kind);

    private static class Names
    {
        public static string Of(RefusalKind kind) => kind switch
        {
            RefusalKind.Invalid => "invalid",
            RefusalKind.Unauthenticated => "unauthenticated",
            RefusalKind.Forbidden => "forbidden",
            RefusalKind.NotFound => "not_found",
            RefusalKind.TooLarge => "too_large",
            RefusalKind.UnsupportedMediaType => "unsupported_media_type",
            RefusalKind.RateLimited => "rate_limited",
            RefusalKind.Unavailable => "unavailable",
            RefusalKind.Cancelled => "cancelled",
            RefusalKind.TimedOut => "timed_out",
            _ => "failed",
        };
    }
}
