using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Last line of defence, as the Functions host has its own: an exception no stage caught becomes a V2 error body,
/// never a developer page or a stack trace. What the server reports about a bad request (a body that is too slow, too
/// large, short or malformed, read outside a stage) keeps its status (408, 413, 400) and is logged at Information
/// without a stack trace; a caller gone away gets no answer; anything else is a 500 with the details in the log,
/// redacted: a cancellation that is not the caller leaving (a timeout of the app's own) included, which before
/// 2026-12-06 went on to the server, whose 500 had an empty body and whose log line was not redacted.
/// </summary>
internal sealed class LastResortMiddleware(RequestDelegate next, ILogger<LastResortMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            Log.BadRequest(logger, ex.StatusCode);
            await WriteAsync(context, ex.StatusCode).ConfigureAwait(false);
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            Log.Aborted(logger);
        }
#pragma warning disable CA1031 // Everything unhandled becomes a bare 500; details go to the log.
        catch (Exception ex) when (!context.Response.HasStarted && !(ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
#pragma warning restore CA1031
        {
            Log.Unhandled(logger, TelemetryRedaction.Exception(ex));
            await WriteAsync(context, StatusCodes.Status500InternalServerError).ConfigureAwait(false);
        }
    }

    private static async Task WriteAsync(HttpContext context, int status)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var body = ErrorBodies.For(status);
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = V2Results.Json;
        context.Response.ContentLength = body.Length;
        // As every other answer carries them (BodyResult; the Functions host's last resort): they were missing here.
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-store";
        if (status == StatusCodes.Status408RequestTimeout)
        {
            context.Response.Headers.Connection = "close";
        }

        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
