using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Policy;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// The generated sample models as the inference app receives them: packaged and signed with a fresh key, the manifest
/// signature checked against that key and the model digest compared with the manifest's pin, then handed on as a
/// <see cref="VerifiedModel"/> (blob storage aside, the checks <see cref="ModelStore"/> makes before a session is built).
/// </summary>
internal static class SignedSamples
{
    public static VerifiedModel Load(string name) => Load(name, SampleModels.BuildModel(name));

    /// <summary>As <see cref="Load(string)"/> for a model whose bytes come from elsewhere (ResNet18, from its package).</summary>
    public static VerifiedModel Load(string name, byte[] model)
    {
        var policy = SampleModels.GetPolicy(name);
        using var signer = SigningKeys.CreateP256();
        using var trusted = TrustedSigners.FromKeys(signer);
        var package = ModelPackager.Pack(name, SampleModels.Version, model, policy, signer, DateTimeOffset.UtcNow);

        if (ManifestSignature.Verify(package.ManifestJson.Span, Encoding.ASCII.GetBytes(package.Signature), trusted) is null
            || package.Manifest.Files[ModelStoreLayout.ModelFile].Sha256 != ModelPackager.Sha256Hex(model))
        {
            throw new InvalidOperationException("The freshly signed sample does not verify.");
        }

        return new VerifiedModel(new VerifiedModelVersion(package.Manifest, package.ManifestDigest, PolicyLoader.Parse(policy)), model);
    }
}
