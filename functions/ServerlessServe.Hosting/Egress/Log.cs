using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Egress;

/// <summary>Egress log messages (event ids 1100-1149). The host only, never the path or query.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Outbound request to {Host} refused: not on the egress allow-list")]
    public static partial void EgressDenied(ILogger logger, string host);
}
