namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Blob names in the <c>models</c> container. File content is content-addressed (<c>sha256/{hex}</c>); each version is
/// <c>manifests/{name}/{version}/manifest.sig</c> and <c>manifest.json</c>, written in that order after the content, so a
/// version exists only once its manifest.json does. Every blob is written once (<c>If-None-Match: *</c>).
/// </summary>
public static class ModelStoreLayout
{
    public const string DefaultContainerName = "models";

    public const string ModelFile = "model.onnx";

    public const string PolicyFile = "policy.json";

    /// <summary>Optional: the training-set statistics the out-of-distribution screen needs (<see cref="Defenses.InputProfile"/>).</summary>
    public const string ProfileFile = "profile.json";

    public const string ManifestFile = "manifest.json";

    public const string SignatureFile = "manifest.sig";

    public const string ManifestsPrefix = "manifests/";

    public const string ContentPrefix = "sha256/";

    public static string ContentPath(string sha256Hex) => ContentPrefix + sha256Hex;

    public static string VersionPrefix(string name) => $"{ManifestsPrefix}{name}/";

    public static string ManifestPath(string name, string version) => $"{ManifestsPrefix}{name}/{version}/{ManifestFile}";

    public static string SignaturePath(string name, string version) => $"{ManifestsPrefix}{name}/{version}/{SignatureFile}";
}
