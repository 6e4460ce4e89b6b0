using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Tripwires;

/// <summary>Tripwire log messages (event ids 1150-1199). Kinds, counts and canary ids only; never a canary value.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1150, Level = LogLevel.Error, Message = "{Count} canary hit(s) dropped: more were waiting to be raised than the queue holds")]
    public static partial void AlarmsDropped(ILogger logger, long count);

    [LoggerMessage(EventId = 1151, Level = LogLevel.Error, Message = "A {Kind} security event could not be raised")]
    public static partial void AlarmFailed(ILogger logger, Exception exception, string kind);
}
