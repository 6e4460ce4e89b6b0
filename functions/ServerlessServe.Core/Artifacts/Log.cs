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

    [LoggerMessage(3010, LogLevel.Information, "Revocation list {Sequence} is in force: {Versions} versions and {Signers} signing keys revoked.")]
    public static partial void RevocationsInForce(ILogger logger, long sequence, int versions, int signers);

    [LoggerMessage(3011, LogLevel.Information, "Lifecycle document {Sequence} of model {Model} is in force.")]
    public static partial void LifecycleInForce(ILogger logger, string model, long sequence);

    [LoggerMessage(3012, LogLevel.Warning, "Refused {Path}: {Reason}. The document in force stays.")]
    public static partial void ControlDocumentRefused(ILogger logger, string path, string reason);

    [LoggerMessage(3013, LogLevel.Error, "Refused to go back under {Prefix}: sequence {Held} is in force but the highest stored is {Stored}. The document in force stays.")]
    public static partial void RollbackRefused(ILogger logger, string prefix, long held, long stored);

    [LoggerMessage(3014, LogLevel.Error, "Lifecycle document {Sequence} of model {Model} was signed by a key revoked since: no version of the model serves until a newer document is published.")]
    public static partial void LifecycleWithdrawn(ILogger logger, string model, long sequence);

    [LoggerMessage(3015, LogLevel.Warning, "Reading the lifecycle documents and revocation list failed; the last good view stays in force.")]
    public static partial void ControlRefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(3016, LogLevel.Error, "The lifecycle documents and revocation list were not read within {Timeout}: request refused.")]
    public static partial void ControlNotRead(ILogger logger, TimeSpan timeout);

    [LoggerMessage(3017, LogLevel.Error, "The lifecycle documents and revocation list were last read {Age} ago, more than {MaxStaleness}: request refused.")]
    public static partial void ControlStale(ILogger logger, TimeSpan age, TimeSpan maxStaleness);

    [LoggerMessage(3018, LogLevel.Critical, "Re-attestation failed for model {Model} version {Version} (manifest {ManifestDigest}): {Reason}. The version stops serving on this instance.")]
    public static partial void AttestationFailed(ILogger logger, string model, string version, string manifestDigest, string reason);

    [LoggerMessage(3019, LogLevel.Debug, "Re-attested {Count} model versions held in memory.")]
    public static partial void Reattested(ILogger logger, int count);

    [LoggerMessage(3009, LogLevel.Warning, "The version listing of model {Model} could not be read again; the one read {Age} ago still answers.")]
    public static partial void ListingServedStale(ILogger logger, string model, TimeSpan age, Exception exception);
}
