namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// Why a stage refused a request, in the domain's words. Only the HTTP edge turns a kind into a status code
/// (<c>ServerlessServe.Hosting.Http.RefusalMapping</c>); the audit record keeps the kind's name.
/// </summary>
public enum RefusalKind
{
    /// <summary>The request is malformed or breaks the model's schema or policy.</summary>
    Invalid,

    /// <summary>No valid credential was presented.</summary>
    Unauthenticated,

    /// <summary>The caller is known but may not do this.</summary>
    Forbidden,

    /// <summary>The model or version does not exist.</summary>
    NotFound,

    /// <summary>The request is larger than a limit allows.</summary>
    TooLarge,

    /// <summary>The body is in a media type or encoding this endpoint does not read.</summary>
    UnsupportedMediaType,

    /// <summary>The caller is over a rate, concurrency or budget limit.</summary>
    RateLimited,

    /// <summary>A dependency (store, inference app, audit log) cannot serve now; the caller may retry.</summary>
    Unavailable,

    /// <summary>The caller went away before the request finished.</summary>
    Cancelled,

    /// <summary>An unexpected failure inside a stage; details go to the log only.</summary>
    Failed,

    /// <summary>The request (its body) did not arrive in time: no bytes for the read timeout, or too slowly.</summary>
    TimedOut,
}
