using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Artifacts;

/// <summary>Artifact hosting messages (event ids 3020-3029, beside the catalog's 3000-3019).</summary>
internal static partial class Log
{
    [LoggerMessage(3020, LogLevel.Error, "The security event for tampered model {Model} version {Version} could not be written; retried at the next re-attestation.")]
    public static partial void TamperEventNotWritten(ILogger logger, string model, string version, Exception exception);
}
