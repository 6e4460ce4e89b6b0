using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Http;

/// <summary>Gateway-to-inference (event ids 1200-1229) and request-body (1230-1249) log messages. Never a payload or a token.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Inference service unreachable ({ErrorType})")]
    public static partial void InferenceUnreachable(ILogger logger, string errorType);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Inference service circuit is open; the call failed at once")]
    public static partial void InferenceCircuitOpen(ILogger logger);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Inference service answered {Status}")]
    public static partial void InferenceFailed(ILogger logger, int status);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "Inference service refused model {Model} version {Version}, which the gateway had resolved: the version cannot serve there")]
    public static partial void InferenceRefusedVersion(ILogger logger, string model, string version);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Information, Message = "Inference service busy (as many request bodies as it may hold) for model {Model} version {Version}; passed on as 503 with Retry-After")]
    public static partial void InferenceBusy(ILogger logger, string model, string version);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "Inference service sent a response that does not parse")]
    public static partial void InferenceBadResponse(ILogger logger);

    [LoggerMessage(EventId = 1230, Level = LogLevel.Information, Message = "Request body stalled: no bytes for {IdleMilliseconds} ms; answered 408")]
    public static partial void BodyStalled(ILogger logger, long idleMilliseconds);

    [LoggerMessage(EventId = 1231, Level = LogLevel.Information, Message = "Request body refused by the server ({Status}): too slow, too large, short of its Content-Length or malformed")]
    public static partial void BodyRefusedByServer(ILogger logger, int status);

    [LoggerMessage(EventId = 1232, Level = LogLevel.Information, Message = "Request body broken off ({ErrorType})")]
    public static partial void BodyBroken(ILogger logger, string errorType);

    [LoggerMessage(EventId = 1233, Level = LogLevel.Information, Message = "Request body abandoned: the caller went away")]
    public static partial void BodyAborted(ILogger logger);

    [LoggerMessage(EventId = 1234, Level = LogLevel.Information, Message = "Request body not received within {TotalMilliseconds} ms of its first read; answered 408")]
    public static partial void BodyTooLong(ILogger logger, long totalMilliseconds);
}
