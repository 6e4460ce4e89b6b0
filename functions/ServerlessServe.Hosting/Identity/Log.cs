using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Identity;

/// <summary>Identity log messages of the hosts (event ids 1500-1549): configured addresses only, never a token.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Caller tokens are validated against the OpenID Connect issuer {Authority} (metadata {MetadataAddress})")]
    public static partial void CallerIssuer(ILogger logger, string authority, string metadataAddress);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "The caller issuer's metadata and keys are fetched over plain HTTP from {Authority}: allowed for a loopback issuer only (development)")]
    public static partial void PlainHttpMetadata(ILogger logger, string authority);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "Caller issuer metadata loaded: {KeyCount} signing key(s)")]
    public static partial void MetadataLoaded(ILogger logger, int keyCount);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "Caller issuer metadata could not be loaded at start; callers get 503 until it can")]
    public static partial void MetadataNotLoaded(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "The summary of {Count} refused token(s) could not be written to the audit log; it is retried with the next one")]
    public static partial void RefusalSummaryNotWritten(ILogger logger, long count, Exception exception);
}
