using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Identity;

/// <summary>Identity log messages of the hosts (event ids 1500-1549): configured addresses only, never a token.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "{Authenticator} tokens are validated against the OpenID Connect issuer {Authority} (metadata {MetadataAddress})")]
    public static partial void Issuer(ILogger logger, string authenticator, string authority, string metadataAddress);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "The {Authenticator} issuer's metadata and keys are fetched over plain HTTP from {Authority}: allowed for a loopback issuer only (development)")]
    public static partial void PlainHttpMetadata(ILogger logger, string authenticator, string authority);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Information, Message = "The {Authenticator} issuer's metadata loaded: {KeyCount} signing key(s)")]
    public static partial void MetadataLoaded(ILogger logger, string authenticator, int keyCount);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "The {Authenticator} issuer's metadata could not be loaded at start; its tokens get 503 until it can")]
    public static partial void MetadataNotLoaded(ILogger logger, string authenticator, Exception exception);

    [LoggerMessage(EventId = 1520, Level = LogLevel.Information, Message = "Tokens for the inference app come from the {Identity} managed identity, for the resource {Resource}")]
    public static partial void ServiceTokenIdentity(ILogger logger, string identity, string resource);

    [LoggerMessage(EventId = 1521, Level = LogLevel.Debug, Message = "Token for the inference app acquired: expires {ExpiresOn:o}, refreshed from {RefreshAt:o}")]
    public static partial void ServiceTokenAcquired(ILogger logger, DateTimeOffset expiresOn, DateTimeOffset refreshAt);

    [LoggerMessage(EventId = 1522, Level = LogLevel.Warning, Message = "A token for the inference app could not be acquired ({ErrorType}); the current one, if any, is used until it expires")]
    public static partial void ServiceTokenFailed(ILogger logger, string errorType, Exception exception);

    [LoggerMessage(EventId = 1523, Level = LogLevel.Warning, Message = "The inference app refused the gateway's token (401); a new one is asked for")]
    public static partial void ServiceTokenRefused(ILogger logger);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Warning, Message = "The summary of {Count} refused token(s) could not be written to the audit log; it is retried with the next one")]
    public static partial void RefusalSummaryNotWritten(ILogger logger, long count, Exception exception);
}
