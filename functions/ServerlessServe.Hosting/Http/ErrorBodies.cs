namespace ServerlessServe.Hosting.Http;

/// <summary>
/// The safe message for a refusal the framework made by status code alone (routing, Kestrel), so that every refusal
/// carries the V2 error body. Fixed text per status: nothing from the request.
/// </summary>
public static class ErrorBodies
{
    /// <summary>The message for <paramref name="status"/>.</summary>
    public static string Message(int status) => status switch
    {
        400 => "bad request",
        401 => "a valid bearer token is required",
        403 => "forbidden",
        404 => "no such route",
        405 => "method not allowed",
        408 => "request not received in time",
        411 => "Content-Length required",
        413 => "request too large",
        414 => "request target too long",
        415 => "unsupported media type",
        417 => "expectation failed",
        429 => "too many requests",
        431 => "request headers too large",
        501 => "not implemented",
        503 => "service unavailable",
        505 => "HTTP version not supported",
        >= 500 => "internal error",
        _ => "request refused",
    };

    /// <summary>The whole padded V2 error body for <paramref name="status"/>.</summary>
    public static byte[] For(int status) => V2Results.Error(status, Message(status)).Body;
}
