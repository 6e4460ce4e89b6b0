using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>Standalone host log messages (event ids 1050-1099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1050, Level = LogLevel.Error, Message = "Unhandled exception; answered 500")]
    public static partial void Unhandled(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1052, Level = LogLevel.Information, Message = "The server refused the request ({Status}); answered with the error body")]
    public static partial void BadRequest(ILogger logger, int status);

    [LoggerMessage(EventId = 1053, Level = LogLevel.Information, Message = "The caller went away while the request was read")]
    public static partial void Aborted(ILogger logger);
}
