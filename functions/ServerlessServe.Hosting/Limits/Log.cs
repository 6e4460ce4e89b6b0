using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Limits;

/// <summary>The gateway's limit services (event ids 1550-1559).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1550, Level = LogLevel.Warning, Message = "The summary of {Count} rate-limited request(s) could not be written to the audit log; it is retried with the next one")]
    public static partial void RateLimitSummaryNotWritten(ILogger logger, long count, Exception exception);

    [LoggerMessage(EventId = 1551, Level = LogLevel.Warning, Message = "ServerlessServe:Limits:SummarizeRefusals is false: every rate-limited request is audited one by one, so a caller flooding past its limits adds one audit record per refused request")]
    public static partial void EveryRefusalAudited(ILogger logger);
}
