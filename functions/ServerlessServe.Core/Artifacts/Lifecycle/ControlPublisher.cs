using System.Security.Cryptography;

namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// Edits of the signed documents, as <c>ssctl model lifecycle</c> and <c>ssctl model revoke</c> make them: read the
/// document in force, apply one change, sign it with the next sequence and publish it as a new blob.
/// </summary>
public static class ControlPublisher
{
    /// <summary>
    /// Publishes the next lifecycle document of <paramref name="name"/>: the one in force (or an empty one) changed by
    /// <paramref name="edit"/>. A higher stored document that no key of the store's trusted set verifies stops it
    /// (<see cref="ControlDocumentProblem.NewerUnverified"/>): an instance that trusts its signer starts from that one,
    /// and the change, made from an older one, would undo it there. <paramref name="skipUnverified"/> publishes anyway
    /// (for a document known not to be genuine).
    /// </summary>
    public static async Task<ModelLifecycle> UpdateLifecycleAsync(
        ControlStore store, string name, ECDsa signer, DateTimeOffset now, Func<ModelLifecycle, ModelLifecycle> edit, CancellationToken cancellationToken, bool skipUnverified = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(edit);
        ModelNames.EnsureValidName(name);
        var revocations = await LatestRevocationsAsync(store, skipUnverified, cancellationToken).ConfigureAwait(false);
        var keyId = KeyIds.Compute(signer);
        var unverified = new List<long>();
        var found = await store.LatestLifecycleAsync(name, revocations, cancellationToken, (sequence, ex) =>
        {
            if (ex.Problem == ControlDocumentProblem.UntrustedSignature)
            {
                unverified.Add(sequence);
            }
        }).ConfigureAwait(false);
        if (unverified.Count > 0 && !skipUnverified)
        {
            throw NewerUnverified($"lifecycle document {unverified.Max()} of {name}", found?.Sequence);
        }

        var current = found ?? new ModelLifecycle
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

    /// <summary>
    /// Publishes the next revocation list: the one in force changed by <paramref name="edit"/>; a higher stored list no
    /// trusted key verifies stops it, as in <see cref="UpdateLifecycleAsync"/>.
    /// </summary>
    public static async Task<RevocationList> UpdateRevocationsAsync(
        ControlStore store, ECDsa signer, DateTimeOffset now, Func<RevocationList, RevocationList> edit, CancellationToken cancellationToken, bool skipUnverified = false)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(edit);
        var current = await LatestRevocationsAsync(store, skipUnverified, cancellationToken).ConfigureAwait(false);
        var next = edit(current) with
        {
            Sequence = await store.NextSequenceAsync(ControlStore.RevocationsPrefix, cancellationToken).ConfigureAwait(false),
            Issued = WholeSeconds(now),
            SignerKeyId = KeyIds.Compute(signer),
        };
        await store.PublishAsync(next, signer, cancellationToken).ConfigureAwait(false);
        return next;
    }

    // The revocation list in force, refusing (unless told to skip them) a higher list no trusted key verifies.
    private static async Task<RevocationList> LatestRevocationsAsync(ControlStore store, bool skipUnverified, CancellationToken cancellationToken)
    {
        var (list, newer) = await store.RevocationsInForceAsync(cancellationToken).ConfigureAwait(false);
        return newer > 0 && !skipUnverified ? throw NewerUnverified($"revocation list {newer}", list.Sequence == 0 ? null : list.Sequence) : list;
    }

    private static ControlDocumentException NewerUnverified(string document, long? basis) => new(
        $"stored {document} does not verify with the trusted keys given, and the change would start from "
        + (basis is { } b ? $"document {b}" : "no document")
        + ": an instance that trusts its signer would lose what it holds",
        ControlDocumentProblem.NewerUnverified);

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
