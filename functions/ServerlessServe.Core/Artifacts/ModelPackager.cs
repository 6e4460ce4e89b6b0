using System.Security.Cryptography;
using ServerlessServe.Core.Defenses;
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
    public static Task<ModelPackage> PackDirectoryAsync(
        string directory, string name, string version, ECDsa signer, DateTimeOffset created, CancellationToken cancellationToken = default) =>
        PackDirectoryAsync(directory, name, version, signer, created, profile: null, cancellationToken);

    /// <summary>
    /// Packages <c>{directory}/model.onnx</c>, <c>policy.json</c> and <paramref name="profile"/>, or when that is null,
    /// <c>profile.json</c> if the folder has one.
    /// </summary>
    public static async Task<ModelPackage> PackDirectoryAsync(
        string directory, string name, string version, ECDsa signer, DateTimeOffset created, byte[]? profile, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var model = await File.ReadAllBytesAsync(Path.Combine(directory, ModelStoreLayout.ModelFile), cancellationToken).ConfigureAwait(false);
        var policy = await File.ReadAllBytesAsync(Path.Combine(directory, ModelStoreLayout.PolicyFile), cancellationToken).ConfigureAwait(false);
        var profilePath = Path.Combine(directory, ModelStoreLayout.ProfileFile);
        if (profile is null && File.Exists(profilePath))
        {
            profile = await File.ReadAllBytesAsync(profilePath, cancellationToken).ConfigureAwait(false);
        }

        return Pack(name, version, model, policy, signer, created, profile);
    }

    /// <summary>Packages the given bytes. <paramref name="created"/> is recorded to the second, in UTC.</summary>
    public static ModelPackage Pack(
        string name, string version, ReadOnlyMemory<byte> model, ReadOnlyMemory<byte> policy, ECDsa signer, DateTimeOffset created, byte[]? profile = null)
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
        CheckProfile(parsedPolicy, profile is null ? null : ParseProfile(profile), inputs);
        if (profile is not null)
        {
            files.Add(new(ModelStoreLayout.ProfileFile, Pin(profile), profile));
        }

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

    /// <summary>
    /// The <c>profile.json</c> for a version whose policy screens an input for being out of distribution: statistics
    /// of <paramref name="trainingCsv"/> (see <see cref="TrainingRows"/>) for that input, thresholded at the policy's
    /// percentile. Computed when the version is published and signed with it.
    /// </summary>
    public static byte[] ProfileFor(ReadOnlySpan<byte> model, ReadOnlySpan<byte> policy, TextReader trainingCsv)
    {
        var parsed = PolicyLoader.Parse(policy);
        var ood = parsed.Defenses?.Ood ?? throw new PolicyException("/defenses/ood", "training data is for the ood screen, and the policy has none");
        var (inputs, _) = OnnxModelInspector.Describe(OnnxModelInspector.Parse(model));
        var spec = inputs.FirstOrDefault(i => i.Name == ood.Input);
        if (spec is null || spec.Shape.Length != 2 || spec.Shape[1] is < 1 or > InputProfile.MaxFeatures)
        {
            throw new PolicyException("/defenses/ood/input", $"must be an input of shape [batch, 1..{InputProfile.MaxFeatures}]");
        }

        var rows = TrainingRows.ReadCsv(trainingCsv, (int)spec.Shape[1]);
        return InputProfileBuilder.Build(ood.Input, rows, ood.Percentile).ToJson();
    }

    /// <summary>Parses <c>profile.json</c>; a malformed one is a <see cref="ModelVerificationFailure.Policy"/> failure.</summary>
    internal static InputProfile ParseProfile(ReadOnlySpan<byte> profile)
    {
        try
        {
            return InputProfile.Parse(profile);
        }
        catch (FormatException ex)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Policy, ex.Message, ex);
        }
    }

    /// <summary>
    /// An out-of-distribution screen needs a profile of its input, taken at the policy's percentile; a profile must be
    /// of an input of the model with its feature count.
    /// </summary>
    internal static void CheckProfile(ModelPolicy policy, InputProfile? profile, IReadOnlyList<Protocol.TensorSpec> inputs)
    {
        if (policy.Defenses?.Ood is { } ood)
        {
            if (profile is null)
            {
                throw new ModelVerificationException(ModelVerificationFailure.Policy, "the policy's ood screen needs profile.json (publish with --training-data)");
            }

            if (profile.Input != ood.Input || profile.Percentile != ood.Percentile)
            {
                throw new ModelVerificationException(ModelVerificationFailure.Policy, "profile.json is not of the ood screen's input and percentile");
            }
        }

        if (profile is not null)
        {
            var spec = inputs.FirstOrDefault(i => i.Name == profile.Input);
            if (spec is null || spec.Shape.Length != 2 || spec.Shape[1] != profile.Features)
            {
                throw new ModelVerificationException(ModelVerificationFailure.Policy, "profile.json does not fit the model's input");
            }
        }
    }

    /// <summary>Lowercase hex SHA-256.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static ManifestFile Pin(ReadOnlySpan<byte> content) => new(Sha256Hex(content), content.Length);

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
