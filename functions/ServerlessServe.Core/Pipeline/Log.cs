using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Pipeline;

/// <summary>Pipeline log messages (event ids 1300-1399). Request ids and stage names only; never a payload or caller id.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Request {RequestId} refused at {Stage}: {Kind}")]
    public static partial void StageRefused(ILogger logger, string requestId, string stage, string kind);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Error, Message = "Request {RequestId} failed at {Stage}")]
    public static partial void StageFailed(ILogger logger, Exception exception, string requestId, string stage);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Request {RequestId} ran out of time at {Stage}; refused as unavailable")]
    public static partial void DeadlineExceeded(ILogger logger, string requestId, string stage);
}
