namespace ServerlessServe.Core.Artifacts;

/// <summary>One file of a package: its name in the manifest, its pin (digest and size) and the exact bytes that were pinned.</summary>
public sealed record PackageFile(string Name, ManifestFile Pin, ReadOnlyMemory<byte> Content);
