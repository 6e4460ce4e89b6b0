using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Identity;

/// <summary>
/// Identity log messages (event ids 2000-2049). Never a token, a claim value, a key id from a request or a raw caller
/// id: a refusal is logged with its reason name only.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "A caller token names a key the issuer's key set does not hold: refreshing the issuer metadata")]
    public static partial void RefreshingForUnknownKey(ILogger logger);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "A caller token names an unknown key; no metadata refresh before {NextAllowed:o} (rate limit)")]
    public static partial void RefreshRateLimited(ILogger logger, DateTimeOffset nextAllowed);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "The issuer metadata or key set could not be read; caller tokens cannot be checked until it can")]
    public static partial void MetadataUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Issuer metadata refreshed: {KeyCount} signing key(s)")]
    public static partial void MetadataRefreshed(ILogger logger, int keyCount);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "The issuer metadata refresh did not complete within {Wait}; the token that asked for it is refused")]
    public static partial void RefreshNotCompleted(ILogger logger, TimeSpan wait);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Bearer tokens need not be access tokens (RequireAccessToken is false): a user's ID token for an accepted audience is accepted too")]
    public static partial void AccessTokenNotRequired(ILogger logger);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Request {RequestId}: bearer token refused by the {Authenticator} authenticator ({Reason})")]
    public static partial void TokenRefused(ILogger logger, string requestId, string authenticator, string reason);
}
