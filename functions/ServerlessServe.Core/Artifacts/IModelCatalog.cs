using ServerlessServe.Core.Pipeline;
namespace ServerlessServe.Core.Artifacts;

/// <summary>Resolves a model (and optional version) to a verified version from the model store.</summary>
public interface IModelCatalog
{
    /// <summary>
    /// Returns the requested version, or when <paramref name="version"/> is null the newest version that verifies
    /// (a version that fails verification is skipped, so the previous good one keeps serving).
    /// Throws <see cref="Protocol.RefusedException"/>: 400 for an invalid name, 404 for an unknown model or version,
    /// 503 for a version that fails verification or a store that cannot be reached.
    /// </summary>
    Task<VerifiedModelVersion> ResolveAsync(string name, string? version, CancellationToken cancellationToken);
}
