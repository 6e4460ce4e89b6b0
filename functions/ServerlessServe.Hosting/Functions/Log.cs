using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Functions;

/// <summary>Messages about the Functions host process a worker runs under (event ids 1560-1569).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1560, Level = LogLevel.Critical, Message = "The Functions host (process {HostProcessId}) that started this worker has gone (parent now {ParentProcessId}); the worker stops")]
    public static partial void HostGone(ILogger logger, int hostProcessId, int parentProcessId);

    [LoggerMessage(EventId = 1561, Level = LogLevel.Critical, Message = "The worker had not stopped {Seconds} s after its Functions host went; it exits")]
    public static partial void StopTooSlow(ILogger logger, double seconds);

    [LoggerMessage(EventId = 1562, Level = LogLevel.Debug, Message = "No Functions host process to follow (parent process {ParentProcessId})")]
    public static partial void NoHostProcess(ILogger logger, int parentProcessId);

    [LoggerMessage(EventId = 1563, Level = LogLevel.Error, Message = "Unhandled exception in function {Function}; answered 500")]
    public static partial void WorkerUnhandled(ILogger logger, string function, Exception exception);
}
