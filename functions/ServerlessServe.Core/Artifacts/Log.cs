using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Artifacts;

/// <summary>Log messages of the artifacts area (EventIds 3000-3099). Model names and versions are validated path segments, never payloads.</summary>
internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Information, "Published model {Model} version {Version} (manifest {ManifestDigest}).")]
    public static partial void Published(ILogger logger, string model, string version, string manifestDigest);

    [LoggerMessage(3001, LogLevel.Debug, "Content {Digest} is already stored; not uploaded again.")]
    public static partial void ContentAlreadyStored(ILogger logger, string digest);

    [LoggerMessage(3002, LogLevel.Information, "Verified model {Model} version {Version} (manifest {ManifestDigest}).")]
    public static partial void Verified(ILogger logger, string model, string version, string manifestDigest);

    [LoggerMessage(3003, LogLevel.Warning, "Model {Model} version {Version} failed verification ({Failure}): {Reason}. It will not be served.")]
    public static partial void VerificationFailed(ILogger logger, string model, string version, ModelVerificationFailure failure, string reason);

    [LoggerMessage(3004, LogLevel.Warning, "Skipping model {Model} version {Version}: it failed verification; an older version keeps serving.")]
    public static partial void SkippingFailedVersion(ILogger logger, string model, string version);

    [LoggerMessage(3005, LogLevel.Error, "The model store could not be reached while resolving model {Model}.")]
    public static partial void StoreUnreachable(ILogger logger, string model, Exception exception);

    [LoggerMessage(3006, LogLevel.Warning, "Model {Model} version {Version} was marked unavailable for {RetryAfter}.")]
    public static partial void MarkedUnavailable(ILogger logger, string model, string version, TimeSpan retryAfter);
}
