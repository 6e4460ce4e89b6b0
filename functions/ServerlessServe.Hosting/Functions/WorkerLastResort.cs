using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Functions;

/// <summary>
/// Under the Functions host, the last line of defence the standalone host has in <c>LastResortMiddleware</c>: an
/// exception that escapes an HTTP function becomes a 500 with the V2 error body, logged redacted (log 1563), and the
/// invocation succeeds. Without it the host answered an empty 500 and logged the exception as it was, message and stack
/// included, past every redaction. A caller gone away gets nothing. Functions of other triggers (orchestrations,
/// activities, timers) are left alone: their failures are what the durable engine retries.
/// </summary>
public sealed class WorkerLastResort(ILogger<WorkerLastResort> logger) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Everything unhandled in an HTTP function becomes a bare 500; details go to the log, redacted.
        catch (Exception ex) when (context.GetHttpContext() is { } http && !http.Response.HasStarted
            && !(ex is OperationCanceledException && http.RequestAborted.IsCancellationRequested))
#pragma warning restore CA1031
        {
            Log.WorkerUnhandled(logger, context.FunctionDefinition.Name, TelemetryRedaction.Exception(ex));
            context.GetInvocationResult().Value = V2Results.Refused(Refusal.Failed);
        }
    }
}
