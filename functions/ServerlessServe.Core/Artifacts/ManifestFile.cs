namespace ServerlessServe.Core.Artifacts;

/// <summary>One file of a model version as the manifest pins it: lowercase hex SHA-256 and size in bytes.</summary>
public sealed record ManifestFile(string Sha256, long Size);
