using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Local.Samples;

/// <summary>
/// The sample models, built deterministically by this code (same bytes every run), with their hand-written policies
/// from the repository's <c>samples/{model}/policy.json</c> (embedded in this assembly) and, for a policy with an
/// out-of-distribution screen, the <c>profile.json</c> of the model's training rows.
/// </summary>
public static class SampleModels
{
    /// <summary>Version every sample is written as.</summary>
    public const string Version = "1";

    /// <summary>The policy.json bytes of a sample.</summary>
    public static byte[] GetPolicy(string model)
    {
        var resource = typeof(SampleModels).Assembly.GetManifestResourceNames()
            .FirstOrDefault(n => n.Replace('\\', '/') == $"samples/{model}/policy.json")
            ?? throw new ArgumentException("No such sample.", nameof(model));
        using var stream = typeof(SampleModels).Assembly.GetManifestResourceStream(resource)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The model.onnx bytes of a generated sample (credit-risk, customer-notes or digits).</summary>
    public static byte[] BuildModel(string model) => model switch
    {
        CreditRiskSample.Name => CreditRiskSample.BuildModel(),
        CustomerNotesSample.Name => CustomerNotesSample.BuildModel(),
        DigitsSample.Name => DigitsSample.BuildModel(),
        _ => throw new ArgumentException("Not a generated sample.", nameof(model)),
    };

    /// <summary>
    /// The <c>profile.json</c> a sample's policy needs for its out-of-distribution screen, or null when the policy has
    /// none: statistics of the model's training rows (digits: its training split) for the screened input at the
    /// policy's percentile, as <c>ssctl model publish --training-data</c> computes them. Deterministic.
    /// </summary>
    public static byte[]? BuildProfile(string model)
    {
        if (PolicyLoader.Parse(GetPolicy(model)).Defenses?.Ood is not { } ood)
        {
            return null;
        }

        var rows = model == DigitsSample.Name
            ? DigitsData.Load().Train.Rows()
            : throw new InvalidOperationException($"The {model} sample screens its input but has no training rows.");
        return InputProfileBuilder.Build(ood.Input, rows, ood.Percentile).ToJson();
    }

    /// <summary>
    /// Writes <c>{outputDir}/{model}/{version}/model.onnx</c> and <c>policy.json</c> (and <c>profile.json</c> where the
    /// policy screens inputs, see <see cref="BuildProfile"/>) for credit-risk, customer-notes and digits, and for
    /// resnet18 when its file is found (verified against its pinned SHA-256). Existing identical files are kept, so the
    /// folders publish as they are with <c>ssctl model publish</c>.
    /// </summary>
    public static Task<IReadOnlyList<SampleModel>> WriteAllAsync(string outputDir, CancellationToken cancellationToken = default) =>
        WriteAllAsync(outputDir, includeResNet: true, cancellationToken);

    /// <summary>
    /// As <see cref="WriteAllAsync(string, CancellationToken)"/>; without <paramref name="includeResNet"/> the 64 MB
    /// ResNet18 sample is neither read nor rewritten (about 1.5 CPU-s and 128 MB of I/O saved).
    /// </summary>
    public static async Task<IReadOnlyList<SampleModel>> WriteAllAsync(string outputDir, bool includeResNet, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        var written = new List<SampleModel>
        {
            await WriteAsync(outputDir, CreditRiskSample.Name, CreditRiskSample.BuildModel(), cancellationToken).ConfigureAwait(false),
            await WriteAsync(outputDir, CustomerNotesSample.Name, CustomerNotesSample.BuildModel(), cancellationToken).ConfigureAwait(false),
            await WriteAsync(outputDir, DigitsSample.Name, DigitsSample.BuildModel(), cancellationToken).ConfigureAwait(false),
        };

        if (includeResNet && ResNet18Sample.Find() is { } resnet)
        {
            var bytes = ResNet18Sample.WithDynamicBatch(await ResNet18Sample.ReadVerifiedAsync(resnet, cancellationToken).ConfigureAwait(false));
            written.Add(await WriteAsync(outputDir, ResNet18Sample.Name, bytes, cancellationToken).ConfigureAwait(false));
        }

        return written;
    }

    private static async Task<SampleModel> WriteAsync(string outputDir, string name, byte[] model, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(outputDir, name, Version);
        Directory.CreateDirectory(directory);
        await WriteIfChangedAsync(Path.Combine(directory, ModelStoreLayout.ModelFile), model, cancellationToken).ConfigureAwait(false);
        await WriteIfChangedAsync(Path.Combine(directory, ModelStoreLayout.PolicyFile), GetPolicy(name), cancellationToken).ConfigureAwait(false);
        var profilePath = Path.Combine(directory, ModelStoreLayout.ProfileFile);
        if (BuildProfile(name) is { } profile)
        {
            await WriteIfChangedAsync(profilePath, profile, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // A profile left from an earlier policy would be signed into the version; only the policy's own belongs there.
            File.Delete(profilePath);
        }

        return new SampleModel(name, Version, directory);
    }

    private static async Task WriteIfChangedAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        if (File.Exists(path) && new FileInfo(path).Length == content.Length
            && (await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false)).AsSpan().SequenceEqual(content))
        {
            return;
        }

        await File.WriteAllBytesAsync(path, content, cancellationToken).ConfigureAwait(false);
    }
}
