using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Serving.Limits;

/// <summary>Limit and budget messages (event ids 6100-6119).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6100, Level = LogLevel.Warning, Message = "Budget table {Table}: a slice could not be reserved in the background; the next request reserves on its own path")]
    public static partial void BudgetReserveFailed(ILogger logger, string table, Exception exception);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Error, Message = "Budget table {Table} could not be read or written; the request is refused as unavailable")]
    public static partial void BudgetStoreUnavailable(ILogger logger, string table, Exception exception);

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Budget table {Table}: unspent slices could not be given back; they stay counted as used until the day ends")]
    public static partial void BudgetReturnFailed(ILogger logger, string table, Exception exception);
}
