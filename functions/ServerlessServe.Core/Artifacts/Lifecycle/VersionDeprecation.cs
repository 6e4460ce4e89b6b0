namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// A deprecated version's dates, sent to the callers who pin it: <c>Deprecation</c> (RFC 9745) from
/// <see cref="Since"/>, <c>Sunset</c> (RFC 8594) from <see cref="Sunset"/>, after which the version is retired.
/// </summary>
public sealed record VersionDeprecation(DateTimeOffset Since, DateTimeOffset Sunset);
