using System.Security.Cryptography;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Builds a signed <see cref="ModelPackage"/> from <c>model.onnx</c> and <c>policy.json</c>: reads the graph's inputs and
/// outputs from the protobuf (no session), refuses external data, checks the policy against the schema and the model,
/// pins both files by SHA-256 and signs the manifest with ECDSA P-256.
/// </summary>
public static class ModelPackager
{
    /// <summary>Packages <c>{directory}/model.onnx</c> and <c>{directory}/policy.json</c>.</summary>
    public static async Task<ModelPackage> PackDirectoryAsync(
        string directory, string name, string version, ECDsa signer, DateTimeOffset created, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var model = await File.ReadAllBytesAsync(Path.Combine(directory, ModelStoreLayout.ModelFile), cancellationToken).ConfigureAwait(false);
        var policy = await File.ReadAllBytesAsync(Path.Combine(directory, ModelStoreLayout.PolicyFile), cancellationToken).ConfigureAwait(false);
        return Pack(name, version, model, policy, signer, created);
    }

    /// <summary>Packages the given bytes. <paramref name="created"/> is recorded to the second, in UTC.</summary>
    public static ModelPackage Pack(
        string name, string version, ReadOnlyMemory<byte> model, ReadOnlyMemory<byte> policy, ECDsa signer, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ModelNames.EnsureValidName(name);
        ModelNames.EnsureValidVersion(version);

        var proto = OnnxModelInspector.Parse(model.Span);
        OnnxModelInspector.EnsureNoExternalData(proto);
        var (inputs, outputs) = OnnxModelInspector.Describe(proto);

        var parsedPolicy = PolicyLoader.Parse(policy.Span);
        PolicyLoader.CheckAgainst(parsedPolicy, inputs, outputs);

        var files = new List<PackageFile>
        {
            new(ModelStoreLayout.ModelFile, Pin(model.Span), model),
            new(ModelStoreLayout.PolicyFile, Pin(policy.Span), policy),
        };

        var manifest = new ModelManifest
        {
            Name = name,
            Version = version,
            Created = TruncateToSeconds(created.ToUniversalTime()),
            SignerKeyId = KeyIds.Compute(signer),
            Files = files.ToDictionary(f => f.Name, f => f.Pin, StringComparer.Ordinal),
            Inputs = inputs,
            Outputs = outputs,
        };

        var manifestJson = ManifestJson.Serialize(manifest);
        var signature = ManifestSignature.Sign(manifestJson, signer);
        return new ModelPackage(manifest, manifestJson, signature, Sha256Hex(manifestJson), files);
    }

    /// <summary>Lowercase hex SHA-256.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static ManifestFile Pin(ReadOnlySpan<byte> content) => new(Sha256Hex(content), content.Length);

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
