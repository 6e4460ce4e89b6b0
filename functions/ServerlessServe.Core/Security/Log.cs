using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Security;

/// <summary>Security event log messages (event ids 1400-1449). Event ids, kinds and canary ids only; never a canary value or a raw caller id.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Error, Message = "Security event {EventId} ({Kind}) could not be written to the audit trail; its containment still applies")]
    public static partial void AlarmNotRecorded(ILogger logger, string eventId, string kind);
}
