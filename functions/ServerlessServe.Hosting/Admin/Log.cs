using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Admin;

/// <summary>Admin plane log messages of the HTTP edge (event ids 7050-7099): request ids and actions, never a token or a raw subject.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7050, Level = LogLevel.Warning, Message = "Admin request {RequestId}: {Action} refused to an authenticated caller (no admin role, blocked, a data-plane token, or revoked)")]
    public static partial void NotAnAdmin(ILogger logger, string requestId, string action);

    [LoggerMessage(EventId = 7051, Level = LogLevel.Warning, Message = "Admin request {RequestId}: publish refused, the package failed verification ({Failure})")]
    public static partial void PackageRefused(ILogger logger, string requestId, string failure);

    [LoggerMessage(EventId = 7052, Level = LogLevel.Error, Message = "Admin request {RequestId}: {Action} failed after it was requested; its state may have changed")]
    public static partial void ActionFailed(ILogger logger, Exception exception, string requestId, string action);

    [LoggerMessage(EventId = 7053, Level = LogLevel.Error, Message = "Admin request {RequestId}: {Action} could not be served (storage unreachable)")]
    public static partial void ReadFailed(ILogger logger, Exception exception, string requestId, string action);

    [LoggerMessage(EventId = 7054, Level = LogLevel.Warning, Message = "Admin request {RequestId}: {Action} refused, the signed document does not verify or its sequence is taken")]
    public static partial void SignedDocumentRefused(ILogger logger, string requestId, string action);

    [LoggerMessage(EventId = 7055, Level = LogLevel.Warning, Message = "The summary of {Count} refused admin request(s) could not be written to the audit log; it is retried with the next one")]
    public static partial void AdminRefusalSummaryNotWritten(ILogger logger, long count, Exception exception);

    [LoggerMessage(EventId = 7056, Level = LogLevel.Warning, Message = "ServerlessServe:Admin:SummarizeRefusals is false: every refusal of an authenticated caller by the admin gate is audited one by one, so a caller repeating a refused request adds one audit record per request")]
    public static partial void EveryAdminRefusalAudited(ILogger logger);
}
