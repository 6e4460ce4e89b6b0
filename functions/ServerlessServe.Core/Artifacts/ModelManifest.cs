using System.Text.Json.Serialization;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// What a model version is: name, version, the digest of every file, the input/output schema, creation time and the
/// signer's key id. <c>manifest.sig</c> is an ECDSA P-256 signature over the exact bytes of <c>manifest.json</c>.
/// </summary>
public sealed record ModelManifest
{
    public const int CurrentSchemaVersion = 1;

    [JsonRequired]
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>Always <c>onnxruntime_onnx</c> today.</summary>
    [JsonRequired]
    public string Platform { get; init; } = "onnxruntime_onnx";

    public required DateTimeOffset Created { get; init; }

    /// <summary>Key id of the signer (see <c>KeyIds</c>): lowercase hex of the first 16 bytes of SHA-256 over the SubjectPublicKeyInfo.</summary>
    public required string SignerKeyId { get; init; }

    /// <summary>Files by name: <c>model.onnx</c> and <c>policy.json</c>.</summary>
    public required IReadOnlyDictionary<string, ManifestFile> Files { get; init; }

    public required IReadOnlyList<TensorSpec> Inputs { get; init; }

    public required IReadOnlyList<TensorSpec> Outputs { get; init; }
}
