using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>Standalone host log messages (event ids 1050-1099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1050, Level = LogLevel.Error, Message = "Unhandled exception; answered 500")]
    public static partial void Unhandled(ILogger logger, Exception exception);
}
