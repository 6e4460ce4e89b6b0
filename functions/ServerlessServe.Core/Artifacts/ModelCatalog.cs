using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Resolves model names and versions to verified versions from the <see cref="ModelStore"/>. Versions are immutable,
/// so a verified version is cached for good; a version that fails verification is skipped for
/// <see cref="ModelCatalogOptions.FailedVersionRetryAfter"/>; the listing used for "latest" is reused for
/// <see cref="ModelCatalogOptions.LatestCacheTtl"/>. Thread-safe: concurrent callers of one version share one load.
/// </summary>
/// <remarks>
/// Every cache is keyed by what exists in the store, never by what a caller merely asked for: an empty listing (unknown
/// model) and a failed load (unknown version) are dropped as soon as they complete, so distinct unknown names cost one
/// store call each and no memory afterwards.
/// </remarks>
public sealed class ModelCatalog : IModelCatalog
{
    private readonly ModelStore _store;
    private readonly ModelCatalogOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IModelQuarantine? _quarantine;
    private readonly ServingControl? _control;
    private readonly ConcurrentDictionary<string, string> _tampered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Name, string Version), Lazy<Task<VerifiedModelVersion>>> _verified = new();
    private readonly ConcurrentDictionary<(string Name, string Version), DateTimeOffset> _failedUntil = new();
    private readonly ConcurrentDictionary<string, Listing> _listings = new(StringComparer.Ordinal);

    /// <param name="quarantine">
    /// Versions withdrawn from serving (the gateway's containment): "latest" skips them, so the previous good version
    /// serves, and a request naming one is refused as unavailable. Null: nothing is quarantined.
    /// </param>
    /// <param name="control">
    /// The signed lifecycle documents and revocation list: retired versions are not found, deprecated ones serve only
    /// when named, revoked ones are unavailable, and "latest" is the lifecycle's default or newest active version.
    /// Null: every version is active and nothing is revoked (tools and tests that read the store directly).
    /// </param>
    public ModelCatalog(ModelStore store, IOptions<ModelCatalogOptions> options, TimeProvider timeProvider, ILogger<ModelCatalog> logger, IModelQuarantine? quarantine = null, ServingControl? control = null)
    {
        _quarantine = quarantine;
        _control = control;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public ModelStore Store => _store;

    /// <summary>
    /// The refusal for a well-formed name that names no model: not found, in the words this catalog uses with and without
    /// a version; a malformed version is refused as invalid first, as <see cref="ResolveAsync"/> does. For a stage that
    /// must answer exactly as an unknown model is answered (a honey model).
    /// </summary>
    public static Refusal UnknownModel(string? version)
    {
        if (version is null)
        {
            return NoSuchModel;
        }

        ModelNames.EnsureValidVersion(version);
        return NoSuchVersion;
    }

    /// <inheritdoc />
    public async Task<VerifiedModelVersion> ResolveAsync(string name, string? version, CancellationToken cancellationToken)
    {
        ModelNames.EnsureValidName(name);
        if (version is not null)
        {
            ModelNames.EnsureValidVersion(version);
        }

        try
        {
            LifecycleEntry? lifecycle = null;
            if (_control is not null)
            {
                await _control.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
                lifecycle = _control.Lifecycle(name);
                if (lifecycle?.Withdrawn == true)
                {
                    throw new RefusedException(VersionUnavailable);
                }
            }

            return version is null
                ? await ResolveLatestAsync(name, lifecycle?.Document, cancellationToken).ConfigureAwait(false)
                : await ResolveVersionAsync(name, version, lifecycle?.Document, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreFailure(ex, cancellationToken))
        {
            Log.StoreUnreachable(_logger, name, ex);
            throw RefusedException.Unavailable("model store unavailable");
        }
    }

    /// <summary>
    /// Complete versions of <paramref name="name"/>, oldest first, from a listing at most
    /// <see cref="ModelCatalogOptions.LatestCacheTtl"/> old; or, while a newer one is read on the side, from the listing
    /// held if it is at most <see cref="ModelCatalogOptions.ListingMaxStale"/> old.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListVersionsAsync(string name, CancellationToken cancellationToken)
    {
        ModelNames.EnsureValidName(name);
        var now = _time.GetUtcNow();
        if (_listings.TryGetValue(name, out var held) && held.Expires <= now && held.Versions.IsValueCreated
            && held.Versions.Value.IsCompletedSuccessfully && now - held.Listed <= _options.ListingMaxStale)
        {
            Revalidate(name, held, now);
            return held.Versions.Value.Result;
        }

        var listing = _listings.AddOrUpdate(
            name,
            n => NewListing(n, now),
            (n, existing) => existing.Expires > now && !existing.Versions.Value.IsFaulted ? existing : NewListing(n, now));

        // The listing removes itself when it fails or finds nothing, whether or not this caller is still waiting.
        return await listing.Versions.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public IReadOnlyList<IReadOnlyList<string>> KnownRoles(string name)
    {
        var roles = new List<IReadOnlyList<string>>();
        foreach (var ((model, _), load) in _verified)
        {
            if (string.Equals(model, name, StringComparison.Ordinal) && load.IsValueCreated && load.Value.IsCompletedSuccessfully)
            {
                roles.Add(load.Value.Result.Policy.Roles);
            }
        }

        return roles;
    }

    /// <summary>Entries in the listing cache: names with versions, plus listings still in flight. For tests.</summary>
    internal int CachedListingCount => _listings.Count;

    /// <summary>Entries in the verified-version and failed-version caches. For tests.</summary>
    internal int CachedVersionCount => _verified.Count + _failedUntil.Count;

    /// <summary>
    /// Marks a version that passed the catalog's checks but could not be served (for example ONNX Runtime refused it)
    /// as failed, so "latest" skips it until <see cref="ModelCatalogOptions.FailedVersionRetryAfter"/> has passed.
    /// </summary>
    public void MarkUnavailable(string name, string version)
    {
        // The version stays verified (its manifest and policy are what they were): only its serving waits. Forgotten, its
        // policy's roles were too, and a caller entitled to the model was answered as one without access, "model or
        // version not found", once the gateway marked a version the inference app cannot load (review 2026-12-07).
        _failedUntil[(name, version)] = _time.GetUtcNow() + _options.FailedVersionRetryAfter;
        Log.MarkedUnavailable(_logger, name, version, _options.FailedVersionRetryAfter);
    }

    /// <summary>True when <paramref name="version"/> of <paramref name="name"/> failed recently and is being skipped.</summary>
    public bool IsMarkedUnavailable(string name, string version)
    {
        if (!_failedUntil.TryGetValue((name, version), out var until))
        {
            return false;
        }

        if (until > _time.GetUtcNow())
        {
            return true;
        }

        _failedUntil.TryRemove(KeyValuePair.Create((name, version), until));
        return false;
    }

    /// <inheritdoc />
    public VersionDeprecation? DeprecationOf(string name, string version) =>
        _control?.Lifecycle(name)?.Document?.DeprecationAt(version, _time.GetUtcNow());

    /// <summary>
    /// Re-attests every version this catalog holds verified (<see cref="ModelAttestation"/>): a version whose bytes in
    /// memory no longer match what was signed stops serving on this instance (<see cref="MarkTampered"/>). Returns how
    /// many versions were checked.
    /// </summary>
    public int Reattest()
    {
        var checkedCount = 0;
        foreach (var load in _verified.Values)
        {
            if (load.IsValueCreated && load.Value.IsCompletedSuccessfully)
            {
                var version = load.Value.Result;
                checkedCount++;
                if (ModelAttestation.Check(version, _store.TrustedSigners) is { } reason)
                {
                    MarkTampered(version, reason);
                }
            }
        }

        Log.Reattested(_logger, checkedCount);
        return checkedCount;
    }

    /// <inheritdoc/>
    public async Task<VerifiedModelVersion> VerifiedAsync(string name, string version, CancellationToken cancellationToken)
    {
        ModelNames.EnsureValidName(name);
        ModelNames.EnsureValidVersion(version);
        try
        {
            return await GetVerifiedAsync(name, version, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelVerificationException)
        {
            throw new RefusedException(VersionUnavailable);
        }
        catch (ModelNotFoundException)
        {
            throw new RefusedException(NoSuchVersion);
        }
    }

    /// <summary>
    /// Stops <paramref name="version"/> serving on this instance until the process restarts: what it holds in memory is
    /// no longer what was signed. "Latest" skips it; a request naming it is refused as unavailable.
    /// </summary>
    public void MarkTampered(VerifiedModelVersion version, string reason)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (_tampered.TryAdd(version.ManifestDigest, reason))
        {
            Log.AttestationFailed(_logger, version.Manifest.Name, version.Manifest.Version, version.ManifestDigest, reason);
            Tampered?.Invoke(version, reason);
        }
    }

    /// <summary>
    /// Raised once per version when it first fails re-attestation on this instance (after it has stopped serving), with
    /// the reason; the host turns it into a security event where it has one.
    /// </summary>
    public event Action<VerifiedModelVersion, string>? Tampered;

    /// <summary>True when the version with manifest digest <paramref name="manifestDigest"/> failed re-attestation on this instance.</summary>
    public bool IsTampered(string manifestDigest) => _tampered.ContainsKey(manifestDigest);

    private bool IsQuarantined(string name, string version) => _quarantine?.IsQuarantined(name, version) == true;

    /// <summary>Revoked by the containment table or the signed revocation list, or failed re-attestation here.</summary>
    private bool IsWithdrawn(VerifiedModelVersion verified) =>
        _quarantine?.IsSignerRevoked(verified.Manifest.SignerKeyId) == true
        || _control?.Revocations.Revokes(verified) == true
        || IsTampered(verified.ManifestDigest);

    /// <summary>Unpinned callers' candidates, in order: the lifecycle's default, then active versions newest first.</summary>
    private IEnumerable<string> LatestCandidates(IReadOnlyList<string> versions, ModelLifecycle? lifecycle)
    {
        var now = _time.GetUtcNow();
        if (lifecycle?.Default is { } preferred && versions.Contains(preferred, StringComparer.Ordinal))
        {
            yield return preferred;
        }

        for (var i = versions.Count - 1; i >= 0; i--)
        {
            if (versions[i] != lifecycle?.Default && (lifecycle is null || lifecycle.StateAt(versions[i], now) == VersionState.Active))
            {
                yield return versions[i];
            }
        }
    }

    private async Task<VerifiedModelVersion> ResolveLatestAsync(string name, ModelLifecycle? lifecycle, CancellationToken cancellationToken)
    {
        var versions = await ListVersionsAsync(name, cancellationToken).ConfigureAwait(false);
        if (versions.Count == 0)
        {
            throw new RefusedException(NoSuchModel);
        }

        var candidates = LatestCandidates(versions, lifecycle).ToList();
        if (candidates.Count == 0)
        {
            // Every version is retired or deprecated: nothing serves a caller who names none.
            throw new RefusedException(NoSuchModel);
        }

        foreach (var candidate in candidates)
        {
            if (IsMarkedUnavailable(name, candidate) || IsQuarantined(name, candidate))
            {
                Log.SkippingFailedVersion(_logger, name, candidate);
                continue;
            }

            try
            {
                var verified = await GetVerifiedAsync(name, candidate, cancellationToken).ConfigureAwait(false);
                if (!IsWithdrawn(verified))
                {
                    return verified;
                }

                Log.SkippingFailedVersion(_logger, name, candidate);
            }
            catch (ModelVerificationException)
            {
                Log.SkippingFailedVersion(_logger, name, candidate);
            }
            catch (ModelNotFoundException)
            {
                // Listed a moment ago but gone now: try the next one.
            }
        }

        throw new RefusedException(VersionUnavailable);
    }

    private async Task<VerifiedModelVersion> ResolveVersionAsync(string name, string version, ModelLifecycle? lifecycle, CancellationToken cancellationToken)
    {
        // Retired (or deprecated past its date): answered exactly as a version that does not exist.
        if (lifecycle?.StateAt(version, _time.GetUtcNow()) == VersionState.Retired)
        {
            throw new RefusedException(NoSuchVersion);
        }

        if (IsMarkedUnavailable(name, version) || IsQuarantined(name, version))
        {
            throw new RefusedException(VersionUnavailable);
        }

        try
        {
            var verified = await GetVerifiedAsync(name, version, cancellationToken).ConfigureAwait(false);
            return IsWithdrawn(verified) ? throw new RefusedException(VersionUnavailable) : verified;
        }
        catch (ModelVerificationException)
        {
            throw new RefusedException(VersionUnavailable);
        }
        catch (ModelNotFoundException)
        {
            throw new RefusedException(NoSuchVersion);
        }
    }

    private async Task<VerifiedModelVersion> GetVerifiedAsync(string name, string version, CancellationToken cancellationToken)
    {
        var load = _verified.GetOrAdd((name, version), NewLoad);

        // The shared load is not cancelled by one caller; each caller stops waiting on its own token.
        return await load.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private Lazy<Task<VerifiedModelVersion>> NewLoad((string Name, string Version) key)
    {
        Lazy<Task<VerifiedModelVersion>>? load = null;
        load = new Lazy<Task<VerifiedModelVersion>>(() => VerifyOrForgetAsync(key, load!));
        return load;
    }

    /// <summary>
    /// Verifies one version for the cache. A failure removes the entry itself (before any waiter sees it), so an
    /// unknown version leaves nothing behind even when every caller has stopped waiting.
    /// </summary>
    private async Task<VerifiedModelVersion> VerifyOrForgetAsync((string Name, string Version) key, Lazy<Task<VerifiedModelVersion>> load)
    {
        try
        {
            return await _store.VerifyAsync(key.Name, key.Version, _options.VerifyModelDigest, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _verified.TryRemove(KeyValuePair.Create(key, load));
            if (ex is ModelVerificationException)
            {
                _failedUntil[key] = _time.GetUtcNow() + _options.FailedVersionRetryAfter;
            }

            throw;
        }
    }

    private Listing NewListing(string name, DateTimeOffset now)
    {
        Listing? listing = null;
        listing = new Listing(now, now + _options.LatestCacheTtl, new Lazy<Task<IReadOnlyList<string>>>(() => ListOrForgetAsync(name, listing!)));
        return listing;
    }

    /// <summary>
    /// Reads a newer listing of <paramref name="name"/> on the side (one at a time per listing held) and puts it in place of
    /// <paramref name="held"/> once read; a failed read keeps the one held (until it is too old) and is tried again by a
    /// later request.
    /// </summary>
    private void Revalidate(string name, Listing held, DateTimeOffset now)
    {
        if (Interlocked.Exchange(ref held.Revalidating, 1) == 1)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var versions = await _store.ListVersionsAsync(name, CancellationToken.None).ConfigureAwait(false);
                if (versions.Count == 0)
                {
                    _listings.TryRemove(KeyValuePair.Create(name, held));
                    return;
                }

                var fresh = new Listing(now, now + _options.LatestCacheTtl, new Lazy<Task<IReadOnlyList<string>>>(Task.FromResult(versions)));
                _ = fresh.Versions.Value;
                _listings.TryUpdate(name, fresh, held);
            }
            catch (Exception ex) when (IsStoreFailure(ex, CancellationToken.None))
            {
                Log.ListingServedStale(_logger, name, now - held.Listed, ex);
            }
            finally
            {
                Volatile.Write(ref held.Revalidating, 0);
            }
        });
    }

    /// <summary>
    /// Lists one model's versions for the cache. An empty listing (unknown model) or a failure removes the entry itself:
    /// names are the caller's choice, so keeping "nothing here" would grow the cache by one entry per distinct name.
    /// </summary>
    private async Task<IReadOnlyList<string>> ListOrForgetAsync(string name, Listing listing)
    {
        IReadOnlyList<string> versions;
        try
        {
            versions = await _store.ListVersionsAsync(name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            _listings.TryRemove(KeyValuePair.Create(name, listing));
            throw;
        }

        if (versions.Count == 0)
        {
            _listings.TryRemove(KeyValuePair.Create(name, listing));
        }

        return versions;
    }

    private static bool IsStoreFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is not RefusedException && Serving.StoreFailures.IsUnreachable(ex, cancellationToken);

    /// <summary>The refusal of a version that exists but may not serve: it fails verification, is revoked, quarantined or withdrawn, or failed re-attestation.</summary>
    public static Refusal VersionUnavailable { get; } = Refusal.Unavailable("model version unavailable") with { VersionScoped = true };

    /// <summary>
    /// <see cref="VersionUnavailable"/> because the version could not be loaded where it runs (ONNX Runtime refused a
    /// signed model the checks passed, or its bytes are gone): the same on every try, whatever the input, so the
    /// gateway marks the version failed and "latest" falls back to the one before it.
    /// </summary>
    public static Refusal VersionUnservable { get; } = VersionUnavailable with { Reason = UnservableReason };

    /// <summary>The <see cref="Refusal.Reason"/> of <see cref="VersionUnservable"/>.</summary>
    public const string UnservableReason = "unservable";

    private static readonly Refusal NoSuchModel = Refusal.NotFound("model not found");

    private static readonly Refusal NoSuchVersion = Refusal.NotFound("model version not found");

    /// <summary>One model's version listing: when it was read, until when it is fresh, the read itself.</summary>
    private sealed class Listing(DateTimeOffset listed, DateTimeOffset expires, Lazy<Task<IReadOnlyList<string>>> versions)
    {
        public DateTimeOffset Listed { get; } = listed;

        public DateTimeOffset Expires { get; } = expires;

        public Lazy<Task<IReadOnlyList<string>>> Versions { get; } = versions;

        /// <summary>1 while a newer listing is being read on the side.</summary>
        public int Revalidating;
    }
}
