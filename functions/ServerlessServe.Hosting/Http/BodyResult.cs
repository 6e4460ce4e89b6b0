using Microsoft.AspNetCore.Mvc;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// A response body written as-is: status, content type, bytes and the optional
/// <c>Inference-Header-Content-Length</c> of the binary tensor extension. Executes the same under the Functions host
/// and standalone, with no MVC formatters involved.
/// </summary>
public sealed class BodyResult : IActionResult
{
    public const string InferenceHeaderContentLength = "Inference-Header-Content-Length";

    public BodyResult(int statusCode, byte[] body, string contentType, int? inferenceHeaderLength = null)
    {
        StatusCode = statusCode;
        Body = body ?? throw new ArgumentNullException(nameof(body));
        ContentType = contentType;
        InferenceHeaderLength = inferenceHeaderLength;
    }

    public int StatusCode { get; }

    public byte[] Body { get; }

    public string ContentType { get; }

    public int? InferenceHeaderLength { get; }

    /// <summary>Extra response headers (e.g. <c>WWW-Authenticate</c>, <c>Retry-After</c>).</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = ContentType;
        response.ContentLength = Body.Length;
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers.CacheControl = "no-store";
        if (InferenceHeaderLength is { } length)
        {
            response.Headers[InferenceHeaderContentLength] = length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        await response.Body.WriteAsync(Body, context.HttpContext.RequestAborted).ConfigureAwait(false);
    }
}
