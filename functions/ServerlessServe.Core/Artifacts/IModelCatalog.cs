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
    /// The verified version <paramref name="version"/> of <paramref name="name"/>, whatever its standing now
    /// (quarantined, withdrawn, retired, revoked): for the record of what already ran on it (a job item's audit record
    /// after the version was withdrawn mid-job), never to serve it. Throws <see cref="Pipeline.RefusedException"/> as
    /// <see cref="ResolveAsync"/> does for a version that does not exist or does not verify, and the storage client's
    /// exception when the store cannot be reached.
    /// </summary>
    Task<VerifiedModelVersion> VerifiedAsync(string name, string version, CancellationToken cancellationToken);

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

    /// <summary>
    /// Marks a version that passed the catalog's checks but cannot be served (ONNX Runtime refused it where it runs) as
    /// failed for a while, so "latest" resolves to the version before it meanwhile. Nothing by default.
    /// </summary>
    void MarkUnavailable(string name, string version)
    {
    }
}
