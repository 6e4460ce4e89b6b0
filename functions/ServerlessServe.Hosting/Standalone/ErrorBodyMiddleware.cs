using Microsoft.AspNetCore.Http;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Gives every refusal that left the app without a body (a status set by the framework: routing, a server limit, a
/// refused body read) the V2 error body and its <c>Content-Type</c>, as the app's own refusals have.
/// </summary>
internal sealed class ErrorBodyMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context).ConfigureAwait(false);
        var response = context.Response;
        if (response.HasStarted || response.StatusCode < 400 || response.ContentLength > 0 || !string.IsNullOrEmpty(response.ContentType)
            || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var body = ErrorBodies.For(response.StatusCode);
        response.ContentType = V2Results.Json;
        response.ContentLength = body.Length;
        response.Headers["X-Content-Type-Options"] = "nosniff";
        response.Headers.CacheControl = "no-store";
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
