using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Egress;

/// <summary>Egress log messages (event ids 1100-1149). The host (and canary ids) only, never the path, query or a canary value.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "Outbound request to {Host} refused: not on the egress allow-list")]
    public static partial void EgressDenied(ILogger logger, string host);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Outbound request to {Host} refused: its {Where} carried canary {Canaries}")]
    public static partial void CanaryEgress(ILogger logger, string host, string where, string canaries);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, Message = "Outbound request body to {Host} not searched for canaries: {Reason}")]
    public static partial void BodyNotSearched(ILogger logger, string host, string reason);
}
