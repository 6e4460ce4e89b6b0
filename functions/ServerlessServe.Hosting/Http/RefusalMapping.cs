using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// The one place a domain refusal becomes an HTTP status: every endpoint of both apps answers a refusal through this
/// table with the V2 error body <c>{"error": "..."}</c>.
/// </summary>
internal static class RefusalMapping
{
    /// <summary>499: nginx's "client closed request", recorded when the caller went away (no one reads the answer).</summary>
    public const int ClientClosedRequest = 499;

    /// <summary>The status code for <paramref name="kind"/>.</summary>
    public static int StatusCode(RefusalKind kind) => kind switch
    {
        RefusalKind.Invalid => 400,
        RefusalKind.Unauthenticated => 401,
        RefusalKind.Forbidden => 403,
        RefusalKind.NotFound => 404,
        RefusalKind.TooLarge => 413,
        RefusalKind.UnsupportedMediaType => 415,
        RefusalKind.RateLimited => 429,
        RefusalKind.Unavailable => 503,
        RefusalKind.Cancelled => ClientClosedRequest,
        RefusalKind.TimedOut => 408,
        _ => 500,
    };

    /// <summary>
    /// The refusal a status code from another V2 server (the inference app) stands for, seen from the gateway. A 503
    /// marked as concerning only the version asked for (<paramref name="versionScoped"/>) is passed on as it is: the
    /// version is unavailable, not the service.
    /// </summary>
    public static Refusal FromUpstream(int statusCode, bool versionScoped = false) => statusCode switch
    {
        400 => Refusal.Invalid("inference failed for the given input"),
        413 => Refusal.TooLarge("request too large"),
        429 => Refusal.RateLimited("too many requests"),
        503 when versionScoped => Core.Artifacts.ModelCatalog.VersionUnavailable,
        _ => Refusal.Unavailable("inference service unavailable"),
    };
}
