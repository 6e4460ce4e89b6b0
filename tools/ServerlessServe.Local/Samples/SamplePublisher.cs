using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Local.Samples;

/// <summary>
/// Builds the sample models into the local state folder, signs them with the local model-signing key and publishes
/// them write-once. A version that is already published is left as it is (versions are immutable).
/// </summary>
public static class SamplePublisher
{
    /// <summary>One sample and whether this call published it (false: it was already there).</summary>
    public sealed record Result(string Name, string Version, bool Published, long Bytes);

    public static async Task<IReadOnlyList<Result>> PublishAllAsync(
        LocalState state,
        string storageConnectionString,
        bool includeResNet,
        IProgress<(string Model, long Bytes, long Total)>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureKeys();
        var container = new BlobServiceClient(storageConnectionString).GetBlobContainerClient(ModelStoreLayout.DefaultContainerName);
        using var trusted = TrustedSigners.FromPem([await File.ReadAllTextAsync(state.ModelSigningPublicKey, cancellationToken).ConfigureAwait(false)]);
        var store = new ModelStore(container, trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
        await store.CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        using var signer = SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(state.ModelSigningKey, cancellationToken).ConfigureAwait(false));
        var results = new List<Result>();
        foreach (var sample in await SampleModels.WriteAllAsync(state.SamplesDirectory, includeResNet, cancellationToken).ConfigureAwait(false))
        {
            if (!includeResNet && sample.Name == ResNet18Sample.Name)
            {
                continue;
            }

            if ((await store.ListVersionsAsync(sample.Name, cancellationToken).ConfigureAwait(false)).Contains(sample.Version, StringComparer.Ordinal))
            {
                results.Add(new Result(sample.Name, sample.Version, false, 0));
                continue;
            }

            var package = await ModelPackager.PackDirectoryAsync(sample.Directory, sample.Name, sample.Version, signer, TimeProvider.System.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            var total = package.ContentBytes;
            await store.PublishAsync(package, progress is null ? null : new Progress<long>(b => progress.Report((sample.Name, b, total))), cancellationToken).ConfigureAwait(false);
            results.Add(new Result(sample.Name, sample.Version, true, total));
        }

        return results;
    }
}
