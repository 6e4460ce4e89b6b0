using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// Signed-request messages (event ids 2100-2199). Never a signature, a nonce, a key id from a request, a token or a
/// raw subject: requests are named by their server-made id, callers by pseudonym.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Request {RequestId}: request signature refused ({Reason})")]
    public static partial void SignatureRefused(ILogger logger, string requestId, string reason);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, Message = "Request {RequestId}: the replay store (table {Table}) could not be written; the signed request is refused as unavailable")]
    public static partial void ReplayStoreUnavailable(ILogger logger, Exception exception, string requestId, string table);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "Request {RequestId}: the request key table {Table} could not be read; the signed request is refused as unavailable")]
    public static partial void KeyStoreUnavailable(ILogger logger, Exception exception, string requestId, string table);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Request key table {Table} could not be read; the previous view stays in force")]
    public static partial void KeyRefreshFailed(ILogger logger, string table, Exception exception);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Debug, Message = "A signed request names a key this instance does not hold; the key table was read for this caller within the unknown-key interval")]
    public static partial void UnknownKeyReadLimited(ILogger logger);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Information, Message = "Replay store {Table}: {Count} expired nonce(s) deleted")]
    public static partial void NoncesDeleted(ILogger logger, string table, int count);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Warning, Message = "Replay store {Table}: expired nonces could not be deleted; retried at the next interval")]
    public static partial void NonceCleanupFailed(ILogger logger, string table, Exception exception);
}
