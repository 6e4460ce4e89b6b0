using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Audit;

/// <summary>The gateway's audit routes (event ids 5030-5039, in Core's audit range). Never a caller's value or a token.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5030, Level = LogLevel.Warning, Message = "Proof request {RequestId}: storage failed while the record or its proof was read; answered 503 with Retry-After")]
    public static partial void ProofStorageFailed(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(EventId = 5032, Level = LogLevel.Warning, Message = "Proof request {RequestId}: the audit container is not there (nothing audited yet, or it was deleted); answered 404")]
    public static partial void ProofContainerMissing(ILogger logger, string requestId);

    [LoggerMessage(EventId = 5031, Level = LogLevel.Error, Message = "Proof request {RequestId} failed; answered 500")]
    public static partial void ProofFailed(ILogger logger, string requestId, Exception exception);
}
