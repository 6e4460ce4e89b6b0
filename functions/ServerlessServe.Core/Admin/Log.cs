using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Admin;

/// <summary>Admin plane log messages of the core (event ids 7000-7049): pseudonyms, actions and model names only.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7000, Level = LogLevel.Information, Message = "Admin request {RequestId}: {Action} by admin {Admin} on model {Model} version {Version}: {Outcome}")]
    public static partial void AdminAction(ILogger logger, string requestId, string action, string admin, string? model, string? version, string outcome);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Error, Message = "Admin request {RequestId}: the {Outcome} record of {Action} could not be written to the audit log")]
    public static partial void AdminAuditFailed(ILogger logger, Exception exception, string requestId, string action, string outcome);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Model {Model} version {Version} fails verification ({Failure}); listed as failed-verification")]
    public static partial void VersionFailsVerification(ILogger logger, string model, string version, string failure);
}
