using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Verifies an uploaded signed model version in memory, before a byte of it is stored, with the checks and in the order
/// <see cref="ModelStore"/> applies to a stored one: the signature over the exact manifest bytes by a trusted key → the
/// manifest (valid name and version, the signer it names is the key that verified it, no file it does not pin and
/// none missing) → each file's size and SHA-256 → the policy (schema, fit with the signed inputs and outputs) → the model
/// (no external data, a graph that matches the manifest) → the input profile. Returns the package to publish.
/// </summary>
public static class PackageVerifier
{
    /// <summary>
    /// The package of <paramref name="files"/> (by file name: <c>manifest.json</c>, <c>manifest.sig</c> and every file
    /// the manifest pins). Throws <see cref="ModelVerificationException"/> naming the first check that failed.
    /// </summary>
    public static ModelPackage Verify(IReadOnlyDictionary<string, ReadOnlyMemory<byte>> files, TrustedSigners trusted)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(trusted);
        if (!files.TryGetValue(ModelStoreLayout.ManifestFile, out var manifestBytes) || manifestBytes.Length > ManifestJson.MaxManifestBytes)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Manifest, "the package has no manifest.json, or one larger than allowed");
        }

        if (!files.TryGetValue(ModelStoreLayout.SignatureFile, out var signatureBytes))
        {
            throw new ModelVerificationException(ModelVerificationFailure.Signature, "manifest.sig is missing");
        }

        // 1. Signature over the exact bytes, before anything is parsed.
        var keyId = ManifestSignature.Verify(manifestBytes.Span, signatureBytes.Span, trusted)
            ?? throw new ModelVerificationException(ModelVerificationFailure.Signature, "no trusted key verifies manifest.sig");

        // 2. The manifest: a valid name and version, signed by the key it names, pinning exactly the files uploaded.
        var manifest = ManifestJson.Parse(manifestBytes.Span);
        if (!ModelNames.IsValidName(manifest.Name) || !ModelNames.IsValidVersion(manifest.Version))
        {
            throw new ModelVerificationException(ModelVerificationFailure.Manifest, "manifest name or version is not valid");
        }

        if (manifest.SignerKeyId != keyId)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Signature, "manifest names a different signer than the key that verifies it");
        }

        foreach (var name in files.Keys)
        {
            if (name is not (ModelStoreLayout.ManifestFile or ModelStoreLayout.SignatureFile) && !manifest.Files.ContainsKey(name))
            {
                throw new ModelVerificationException(ModelVerificationFailure.Manifest, "the package holds a file the manifest does not pin");
            }
        }

        // 3. Every pinned file present, with its size and SHA-256.
        var packaged = new List<PackageFile>();
        foreach (var (name, pin) in manifest.Files)
        {
            if (!files.TryGetValue(name, out var content))
            {
                throw new ModelVerificationException(ModelVerificationFailure.Digest, "a pinned file is missing from the package");
            }

            if (content.Length != pin.Size
                || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(ModelPackager.Sha256Hex(content.Span)), Encoding.ASCII.GetBytes(pin.Sha256)))
            {
                throw new ModelVerificationException(ModelVerificationFailure.Digest, "a file's size or SHA-256 differs from the manifest");
            }

            packaged.Add(new PackageFile(name, pin, content));
        }

        // 4. Policy: schema, strict parse, and fit with the signed inputs and outputs.
        ModelPolicy policy;
        try
        {
            policy = PolicyLoader.Parse(files[ModelStoreLayout.PolicyFile].Span);
            PolicyLoader.CheckAgainst(policy, manifest.Inputs, manifest.Outputs);
        }
        catch (PolicyException ex)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Policy, ex.Message, ex);
        }

        // 5. Model bytes: no external data, and the graph is what the manifest says.
        var proto = OnnxModelInspector.Parse(files[ModelStoreLayout.ModelFile].Span);
        OnnxModelInspector.EnsureNoExternalData(proto);
        var (inputs, outputs) = OnnxModelInspector.Describe(proto);
        if (!SameSpecs(inputs, manifest.Inputs) || !SameSpecs(outputs, manifest.Outputs))
        {
            throw new ModelVerificationException(ModelVerificationFailure.Manifest, "model graph inputs or outputs differ from the manifest");
        }

        // 6. The training profile, when pinned; the policy's screens must have what they need.
        var profile = files.TryGetValue(ModelStoreLayout.ProfileFile, out var profileBytes) ? ModelPackager.ParseProfile(profileBytes.Span) : null;
        ModelPackager.CheckProfile(policy, profile, manifest.Inputs);

        var signature = Encoding.ASCII.GetString(signatureBytes.Span).Trim();
        return new ModelPackage(manifest, manifestBytes, signature, ModelPackager.Sha256Hex(manifestBytes.Span), packaged);
    }

    private static bool SameSpecs(IReadOnlyList<Protocol.TensorSpec> a, IReadOnlyList<Protocol.TensorSpec> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Name == p.Second.Name && p.First.DataType == p.Second.DataType && p.First.Shape.AsSpan().SequenceEqual(p.Second.Shape));
}
