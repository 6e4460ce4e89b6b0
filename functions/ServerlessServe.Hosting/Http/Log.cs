using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Http;

/// <summary>Gateway-to-inference log messages (event ids 1200-1249). Never a payload or a token.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Inference service unreachable ({ErrorType})")]
    public static partial void InferenceUnreachable(ILogger logger, string errorType);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "Inference service circuit is open; the call failed at once")]
    public static partial void InferenceCircuitOpen(ILogger logger);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Inference service answered {Status}")]
    public static partial void InferenceFailed(ILogger logger, int status);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "Inference service sent a response that does not parse")]
    public static partial void InferenceBadResponse(ILogger logger);
}
