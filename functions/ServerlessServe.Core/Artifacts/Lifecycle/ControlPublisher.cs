using System.Security.Cryptography;

namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// Edits of the signed documents, as <c>ssctl model lifecycle</c> and <c>ssctl model revoke</c> make them: read the
/// document in force, apply one change, sign it with the next sequence and publish it as a new blob.
/// </summary>
public static class ControlPublisher
{
    /// <summary>Publishes the next lifecycle document of <paramref name="name"/>: the one in force (or an empty one) changed by <paramref name="edit"/>.</summary>
    public static async Task<ModelLifecycle> UpdateLifecycleAsync(
        ControlStore store, string name, ECDsa signer, DateTimeOffset now, Func<ModelLifecycle, ModelLifecycle> edit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(edit);
        ModelNames.EnsureValidName(name);
        var revocations = await store.LatestRevocationsAsync(RevocationList.None, cancellationToken).ConfigureAwait(false);
        var keyId = KeyIds.Compute(signer);
        var current = await store.LatestLifecycleAsync(name, revocations, cancellationToken).ConfigureAwait(false) ?? new ModelLifecycle
        {
            SchemaVersion = ModelLifecycle.CurrentSchemaVersion,
            Name = name,
            Sequence = 1,
            Issued = WholeSeconds(now),
            SignerKeyId = keyId,
            Versions = new Dictionary<string, VersionLifecycle>(StringComparer.Ordinal),
        };
        var next = edit(current) with
        {
            Name = name,
            Sequence = await store.NextSequenceAsync(ControlStore.LifecyclePrefix(name), cancellationToken).ConfigureAwait(false),
            Issued = WholeSeconds(now),
            SignerKeyId = keyId,
        };
        await store.PublishAsync(next, signer, cancellationToken).ConfigureAwait(false);
        return next;
    }

    /// <summary>Publishes the next revocation list: the one in force changed by <paramref name="edit"/>.</summary>
    public static async Task<RevocationList> UpdateRevocationsAsync(
        ControlStore store, ECDsa signer, DateTimeOffset now, Func<RevocationList, RevocationList> edit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(edit);
        var current = await store.LatestRevocationsAsync(RevocationList.None, cancellationToken).ConfigureAwait(false);
        var next = edit(current) with
        {
            Sequence = await store.NextSequenceAsync(ControlStore.RevocationsPrefix, cancellationToken).ConfigureAwait(false),
            Issued = WholeSeconds(now),
            SignerKeyId = KeyIds.Compute(signer),
        };
        await store.PublishAsync(next, signer, cancellationToken).ConfigureAwait(false);
        return next;
    }

    /// <summary>
    /// The SHA-256 of the stored <c>manifest.json</c> of <paramref name="version"/> (what a revocation names), whether or
    /// not the version verifies; null when it does not exist.
    /// </summary>
    public static async Task<string?> ManifestDigestAsync(ModelStore store, string name, string version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ModelNames.EnsureValidName(name);
        ModelNames.EnsureValidVersion(version);
        try
        {
            var content = await store.Container.GetBlobClient(ModelStoreLayout.ManifestPath(name, version)).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return Convert.ToHexStringLower(SHA256.HashData(content.Value.Content.ToMemory().Span));
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary><paramref name="lifecycle"/> with <paramref name="version"/> in <paramref name="entry"/>'s state, or active when null; the default is cleared when it stops being active.</summary>
    public static ModelLifecycle WithVersion(ModelLifecycle lifecycle, string version, VersionLifecycle? entry)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        ModelNames.EnsureValidVersion(version);
        var versions = new Dictionary<string, VersionLifecycle>(lifecycle.Versions, StringComparer.Ordinal);
        if (entry is null)
        {
            versions.Remove(version);
        }
        else
        {
            versions[version] = entry;
        }

        return lifecycle with { Versions = versions, Default = entry is not null && lifecycle.Default == version ? null : lifecycle.Default };
    }

    /// <summary>UTC, whole seconds, as the documents require.</summary>
    public static DateTimeOffset WholeSeconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
