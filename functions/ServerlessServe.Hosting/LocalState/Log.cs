using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.LocalState;

/// <summary>Local state log messages (event ids 1000-1049).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Warning, Message = "Keys not configured otherwise are read from the local state folder {Directory}: development only, never in Azure")]
    public static partial void KeysFromLocalState(ILogger logger, string directory);
}
