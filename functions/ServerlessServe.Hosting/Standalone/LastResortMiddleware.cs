using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Last line of defence, as the Functions host has its own: an exception no stage caught becomes a bare 500 with the V2
/// error body, never a developer page or a stack trace; details go to the log.
/// </summary>
internal sealed class LastResortMiddleware(RequestDelegate next, ILogger<LastResortMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Everything unhandled becomes a bare 500; details go to the log.
        catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            Log.Unhandled(logger, TelemetryRedaction.Exception(ex));
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"error\":\"internal error\"}", context.RequestAborted).ConfigureAwait(false);
        }
    }
}
