using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Security;

/// <summary>
/// Security-event and containment messages (event ids 6000-6019). Callers appear only as pseudonyms; evidence never
/// holds a payload or a canary value.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Warning, Message = "Security event {EventId}: {Kind} by caller {Caller} on model {Model} version {Version}; action {Action} until {Until}; evidence {Evidence}")]
    public static partial void SecurityEvent(ILogger logger, string eventId, string kind, string caller, string? model, string? version, string action, DateTimeOffset? until, string evidence);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Error, Message = "Security event {EventId}: the containment could not be written to table {Table}; it is in force on this instance only")]
    public static partial void ContainmentWriteFailed(ILogger logger, Exception exception, string eventId, string table);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "Security event {EventId} could not be written to the audit log")]
    public static partial void SecurityAuditFailed(ILogger logger, Exception exception, string eventId);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Containment table {Table} could not be read; the previous view stays in force")]
    public static partial void ContainmentRefreshFailed(ILogger logger, string table, Exception exception);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Security event {EventId}: action {Action} needs a {Needed}, which the event does not name; recorded only")]
    public static partial void ActionWithoutSubject(ILogger logger, string eventId, string action, string needed);

    [LoggerMessage(EventId = 1400, Level = LogLevel.Error, Message = "Security event {EventId} ({Kind}) could not be written to the audit trail; its containment still applies")]
    public static partial void AlarmNotRecorded(ILogger logger, string eventId, string kind);
}
