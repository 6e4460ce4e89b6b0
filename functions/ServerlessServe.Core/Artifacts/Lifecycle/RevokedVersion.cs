namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>A model version in the revocation list: by name and version, and by the digest of the manifest it was.</summary>
public sealed record RevokedVersion(string Name, string Version, string ManifestSha256);
