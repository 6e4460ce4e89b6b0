namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// A signed model version ready to publish: the manifest, its exact bytes, the <c>manifest.sig</c> text, the manifest
/// digest (lowercase hex SHA-256 of <see cref="ManifestJson"/>) and the pinned files.
/// </summary>
public sealed record ModelPackage(
    ModelManifest Manifest,
    ReadOnlyMemory<byte> ManifestJson,
    string Signature,
    string ManifestDigest,
    IReadOnlyList<PackageFile> Files)
{
    /// <summary>Bytes of file content to upload (what a progress bar counts to).</summary>
    public long ContentBytes => Files.Sum(f => (long)f.Content.Length);
}
