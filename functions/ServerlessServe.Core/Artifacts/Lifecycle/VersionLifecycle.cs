namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// One version's entry in a lifecycle document. <see cref="Since"/> and <see cref="Until"/> are required for
/// <see cref="VersionState.Deprecated"/> (when it was deprecated, and when it retires) and absent otherwise.
/// </summary>
public sealed record VersionLifecycle(VersionState State, DateTimeOffset? Since = null, DateTimeOffset? Until = null);
