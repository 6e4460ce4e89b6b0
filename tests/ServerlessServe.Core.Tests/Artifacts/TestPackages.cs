using System.Security.Cryptography;
using Google.Protobuf;
using Onnx;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Artifacts;

/// <summary>Signing keys and packages for the artifact, catalog and inference tests.</summary>
internal static class TestPackages
{
    public static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static readonly Lazy<byte[]> CreditRiskBytes = new(CreditRiskSample.BuildModel);
    private static readonly Lazy<byte[]> CustomerNotesBytes = new(CustomerNotesSample.BuildModel);

    /// <summary>The trusted publisher key of these tests.</summary>
    public static ECDsa Signer { get; } = SigningKeys.CreateP256();

    public static byte[] CreditRiskModel => CreditRiskBytes.Value;

    public static byte[] CustomerNotesModel => CustomerNotesBytes.Value;

    public static TrustedSigners Trusted() => TrustedSigners.FromKeys(Signer);

    public static ModelPackage CreditRisk(string name, string version, ECDsa? signer = null, byte[]? policy = null) =>
        ModelPackager.Pack(name, version, CreditRiskModel, policy ?? SampleModels.GetPolicy(CreditRiskSample.Name), signer ?? Signer, Created);

    /// <summary>
    /// The credit-risk model with <paramref name="tag"/> as its doc string: the same graph in bytes of its own, so its
    /// content blob is its own too (a test may alter it in storage without touching any other model).
    /// </summary>
    public static ModelPackage CreditRiskOwnBytes(string name, string version, string tag)
    {
        var model = ModelProto.Parser.ParseFrom(CreditRiskModel);
        model.DocString = tag;
        return ModelPackager.Pack(name, version, model.ToByteArray(), SampleModels.GetPolicy(CreditRiskSample.Name), Signer, Created);
    }

    public static ModelPackage CustomerNotes(string name, string version) =>
        ModelPackager.Pack(name, version, CustomerNotesModel, SampleModels.GetPolicy(CustomerNotesSample.Name), Signer, Created);

    /// <summary>The credit-risk policy with another maxBatch: same model, different policy bytes (so different content).</summary>
    public static byte[] CreditRiskPolicyWithMaxBatch(int maxBatch) =>
        System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(SampleModels.GetPolicy(CreditRiskSample.Name))
            .Replace("\"maxBatch\": 64", $"\"maxBatch\": {maxBatch}", StringComparison.Ordinal));

    /// <summary>
    /// Signs a package without the packager's checks, as a compromised or careless publisher could: used to show that
    /// loading re-checks what publishing checks.
    /// </summary>
    public static ModelPackage PackUnchecked(string name, string version, byte[] model, byte[] policy, ECDsa? signer = null)
    {
        signer ??= Signer;
        var (inputs, outputs) = OnnxModelInspector.Describe(OnnxModelInspector.Parse(model));
        var files = new List<PackageFile>
        {
            new(ModelStoreLayout.ModelFile, new ManifestFile(ModelPackager.Sha256Hex(model), model.Length), model),
            new(ModelStoreLayout.PolicyFile, new ManifestFile(ModelPackager.Sha256Hex(policy), policy.Length), policy),
        };
        var manifest = new ModelManifest
        {
            Name = name,
            Version = version,
            Created = Created,
            SignerKeyId = KeyIds.Compute(signer),
            Files = files.ToDictionary(f => f.Name, f => f.Pin),
            Inputs = inputs,
            Outputs = outputs,
        };
        var json = ManifestJson.Serialize(manifest);
        return new ModelPackage(manifest, json, ManifestSignature.Sign(json, signer), ModelPackager.Sha256Hex(json), files);
    }

    /// <summary>The credit-risk model with its weights moved to an external file (as large models do).</summary>
    public static byte[] CreditRiskWithExternalWeights()
    {
        var model = ModelProto.Parser.ParseFrom(CreditRiskModel);
        var weights = model.Graph.Initializer.Single(i => i.Name == "weights");
        weights.FloatData.Clear();
        weights.DataLocation = TensorProto.Types.DataLocation.External;
        weights.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        return model.ToByteArray();
    }
}
