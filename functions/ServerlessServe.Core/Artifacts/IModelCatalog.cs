namespace ServerlessServe.Core.Artifacts;

/// <summary>Resolves a model (and optional version) to a verified version from the model store.</summary>
public interface IModelCatalog
{
    /// <summary>
    /// Returns the requested version, or when <paramref name="version"/> is null the newest version that verifies
    /// (a version that fails verification is skipped, so the previous good one keeps serving).
    /// Throws <see cref="Pipeline.RefusedException"/>: invalid for a malformed name, not found for an unknown model or
    /// version, unavailable for a version that fails verification or a store that cannot be reached.
    /// </summary>
    Task<VerifiedModelVersion> ResolveAsync(string name, string? version, CancellationToken cancellationToken);

    /// <summary>
    /// The deprecation dates of a version its lifecycle deprecates now (it serves only to callers who name it, until
    /// the sunset); null for an active version.
    /// </summary>
    Lifecycle.VersionDeprecation? DeprecationOf(string name, string version);

    /// <summary>
    /// The role lists of the policies of every version of <paramref name="name"/> this instance has verified, whether it
    /// may serve now or not (empty when none): what shows that a caller may know the model when no version can serve.
    /// </summary>
    IReadOnlyList<IReadOnlyList<string>> KnownRoles(string name);
}
