using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Admin;

/// <summary>
/// Every model version in the store and its state: each one verified as the apps verify it (signature, manifest, every
/// file's digest — the model's streamed, not kept — and the policy), then held to what the instances hold it to: the
/// signed revocation list and the model's signed lifecycle document as a freshly started instance reads them, then the
/// containment in force (revoked signing keys, then quarantines). A version that fails verification is listed as such
/// with the check it failed.
/// </summary>
public sealed class ModelInventory(ModelStore store, TrustedSigners signers, TimeProvider time, ILogger<ModelInventory> logger)
{
    /// <summary>The stored model names, in ordinal order.</summary>
    public async Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken)
    {
        var names = new List<string>();
        if (!await store.Container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return names;
        }

        await foreach (var item in store.Container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", ModelStoreLayout.ManifestsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (item.IsPrefix && item.Prefix.Length > ModelStoreLayout.ManifestsPrefix.Length + 1)
            {
                var name = item.Prefix[ModelStoreLayout.ManifestsPrefix.Length..^1];
                if (ModelNames.IsValidName(name))
                {
                    names.Add(name);
                }
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Every version of every model (or of <paramref name="model"/> only), oldest version first within a model.</summary>
    public async Task<IReadOnlyList<ModelVersionStatus>> ListAsync(string? model, IReadOnlyList<ContainmentEntry> inForce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inForce);
        var quarantined = inForce.Where(e => e.Kind == ContainmentKind.Quarantine).Select(e => e.Subject).ToHashSet(StringComparer.Ordinal);
        var revokedSigners = inForce.Where(e => e.Kind == ContainmentKind.RevokeSigner).Select(e => e.Subject).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var control = new ControlStore(store.Container, signers);
        var revocations = await control.LatestRevocationsAsync(RevocationList.None, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var result = new List<ModelVersionStatus>();
        var names = model is null ? await NamesAsync(cancellationToken).ConfigureAwait(false) : [model];
        foreach (var name in names)
        {
            var signed = new SignedStanding(revocations, await control.LifecycleInForceAsync(name, revocations, cancellationToken).ConfigureAwait(false), now);
            foreach (var version in await store.ListVersionsAsync(name, cancellationToken).ConfigureAwait(false))
            {
                result.Add(await StatusAsync(name, version, signed, quarantined, revokedSigners, cancellationToken).ConfigureAwait(false));
            }
        }

        return result;
    }

    /// <summary>
    /// One version and its state, judged as <see cref="ListAsync"/> judges every version (the publish answer: a version
    /// quarantined ahead, signed by a revoked key, or retired by the lifecycle in force does not serve, however it was
    /// just stored).
    /// </summary>
    public async Task<ModelVersionStatus> StatusOfAsync(string name, string version, IReadOnlyList<ContainmentEntry> inForce, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inForce);
        var quarantined = inForce.Where(e => e.Kind == ContainmentKind.Quarantine).Select(e => e.Subject).ToHashSet(StringComparer.Ordinal);
        var revokedSigners = inForce.Where(e => e.Kind == ContainmentKind.RevokeSigner).Select(e => e.Subject).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var control = new ControlStore(store.Container, signers);
        var revocations = await control.LatestRevocationsAsync(RevocationList.None, cancellationToken).ConfigureAwait(false);
        var signed = new SignedStanding(revocations, await control.LifecycleInForceAsync(name, revocations, cancellationToken).ConfigureAwait(false), time.GetUtcNow());
        return await StatusAsync(name, version, signed, quarantined, revokedSigners, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ModelVersionStatus> StatusAsync(
        string name, string version, SignedStanding signed, HashSet<string> quarantined, HashSet<string> revokedSigners, CancellationToken cancellationToken)
    {
        try
        {
            var verified = await store.VerifyAsync(name, version, verifyModelDigest: true, cancellationToken).ConfigureAwait(false);
            var state = signed.Revocations.Revokes(verified) ? ModelVersionStates.Revoked
                : signed.Lifecycle?.Withdrawn == true ? ModelVersionStates.Withdrawn
                : signed.Lifecycle?.Document?.StateAt(version, signed.Now) is VersionState.Retired ? ModelVersionStates.Retired
                : revokedSigners.Contains(verified.Manifest.SignerKeyId) ? ModelVersionStates.SignerRevoked
                : quarantined.Contains(ContainmentEntry.ModelSubject(name, version)) ? ModelVersionStates.Quarantined
                : signed.Lifecycle?.Document?.StateAt(version, signed.Now) is VersionState.Deprecated ? ModelVersionStates.Deprecated
                : ModelVersionStates.Serving;
            return new ModelVersionStatus(name, version, state)
            {
                ManifestDigest = verified.ManifestDigest,
                SignerKeyId = verified.Manifest.SignerKeyId,
                Created = verified.Manifest.Created,
            };
        }
        catch (ModelVerificationException ex)
        {
            var failure = ex.Failure.ToString().ToLowerInvariant();
            Log.VersionFailsVerification(logger, name, version, failure);
            return new ModelVersionStatus(name, version, ModelVersionStates.FailedVerification) { Failure = failure };
        }
    }

    // The signed documents in force, as a freshly started instance reads them.
    private readonly record struct SignedStanding(RevocationList Revocations, LifecycleEntry? Lifecycle, DateTimeOffset Now);
}
