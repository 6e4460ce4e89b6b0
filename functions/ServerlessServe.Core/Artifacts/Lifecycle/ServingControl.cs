using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// This instance's view of the signed revocation list and of every model's signed lifecycle document, refreshed every
/// <see cref="ServingControlOptions.RefreshInterval"/> by a background service (<see cref="RefreshAsync"/>). Checks on the
/// request path are lookups in memory. The view never goes back: a lower sequence than the one held is refused
/// (logged once), a failed read keeps the last good view, and requests are refused before the first read and while
/// reads have been failing and the last good one is older than <see cref="ServingControlOptions.MaxStaleness"/>.
/// </summary>
public sealed class ServingControl
{
    private readonly ControlStore _store;
    private readonly ServingControlOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _firstLoad = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private volatile View _view = new(RevocationList.None, FrozenDictionary<string, LifecycleEntry>.Empty);
    private long _lastRefreshedTicks;
    private long _failingSinceTicks;

    public ServingControl(ControlStore store, IOptions<ServingControlOptions> options, TimeProvider timeProvider, ILogger<ServingControl> logger)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>True once the store has been read once.</summary>
    public bool IsReady => _firstLoad.Task.IsCompleted;

    /// <summary>When the view was last read in full; null before the first read.</summary>
    public DateTimeOffset? LastRefreshed => IsReady ? new DateTimeOffset(Interlocked.Read(ref _lastRefreshedTicks), TimeSpan.Zero) : null;

    /// <summary>The revocation list in force.</summary>
    public RevocationList Revocations => _view.Revocations;

    /// <summary>The lifecycle of <paramref name="name"/> in force; null when it has none (every version active).</summary>
    public LifecycleEntry? Lifecycle(string name) => _view.Lifecycles.GetValueOrDefault(name);

    /// <summary>
    /// Returns once the view may be used: waits for the first read up to <see cref="ServingControlOptions.FirstReadTimeout"/>,
    /// and refuses (unavailable) when that passes or when the last good read is older than
    /// <see cref="ServingControlOptions.MaxStaleness"/>.
    /// </summary>
    public async ValueTask EnsureCurrentAsync(CancellationToken cancellationToken)
    {
        if (!IsReady)
        {
            try
            {
                await _firstLoad.Task.WaitAsync(_options.FirstReadTimeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.ControlNotRead(_logger, _options.FirstReadTimeout);
                throw RefusedException.Unavailable("model store unavailable");
            }
        }

        // Stale only while reads fail: the age of the last good read counts from the first failure after it.
        var failingSince = Interlocked.Read(ref _failingSinceTicks);
        var age = _time.GetUtcNow() - LastRefreshed!.Value;
        if (failingSince != 0 && age > _options.MaxStaleness)
        {
            Log.ControlStale(_logger, age, _options.MaxStaleness);
            throw RefusedException.Unavailable("model store unavailable");
        }
    }

    /// <summary>
    /// Reads what is new in the store: revocation lists above the one in force (ascending, each checked against the
    /// last accepted), then for every model the highest lifecycle document above the one held that verifies against
    /// the new revocation list. Throws when the store cannot be read (the previous view stays).
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            var held = _view;
            var revocationListing = await _store.ListAsync(ControlStore.RevocationsPrefix, perName: false, cancellationToken).ConfigureAwait(false);
            var revocations = await _store.AcceptRevocationsAsync(revocationListing, held.Revocations, cancellationToken, (sequence, ex) => Refused(ControlStore.DocumentPath(ControlStore.RevocationsPrefix, sequence), ex)).ConfigureAwait(false);
            CheckRollback(ControlStore.RevocationsPrefix, held.Revocations.Sequence, revocationListing.Sequences(string.Empty) is [var highestList, ..] ? highestList : 0);
            if (revocations.Sequence != held.Revocations.Sequence)
            {
                Log.RevocationsInForce(_logger, revocations.Sequence, revocations.Versions.Count, revocations.Signers.Count);
            }

            var listing = await _store.ListAsync(ControlStore.LifecycleRoot, perName: true, cancellationToken).ConfigureAwait(false);
            var lifecycles = new Dictionary<string, LifecycleEntry>(held.Lifecycles, StringComparer.Ordinal);
            foreach (var name in listing.Documents.Keys.Union(held.Lifecycles.Keys, StringComparer.Ordinal))
            {
                var entry = lifecycles.GetValueOrDefault(name);
                var heldSequence = entry?.Sequence ?? 0;
                ModelLifecycle? found = null;
                long withdrawnAt = 0;
                foreach (var sequence in listing.Sequences(name))
                {
                    if (sequence <= heldSequence)
                    {
                        break;
                    }

                    var path = ControlStore.DocumentPath(ControlStore.LifecyclePrefix(name), sequence);
                    if (_reported.Contains(path))
                    {
                        continue;
                    }

                    try
                    {
                        found = await _store.ReadLifecycleAsync(name, sequence, revocations, cancellationToken).ConfigureAwait(false);
                        break;
                    }
                    catch (ControlDocumentException ex) when (ex.Problem == ControlDocumentProblem.SignerRevoked)
                    {
                        // The highest document a trusted key verifies decides, revoked or not: its signer's revocation
                        // withdraws the model (no version serves) until a higher document by a good key is published.
                        // Skipping to a lower document instead would bring back what this one retired, and an instance
                        // that read this document before the revocation withdraws the model (below): a fresh instance
                        // must not serve what a long-running one refuses.
                        Refused(path, ex);
                        withdrawnAt = sequence;
                        break;
                    }
                    catch (ControlDocumentException ex)
                    {
                        Refused(path, ex);
                    }
                }

                if (found is not null)
                {
                    lifecycles[name] = new LifecycleEntry(found, found.Sequence);
                    Log.LifecycleInForce(_logger, name, found.Sequence);
                }
                else if (withdrawnAt > 0)
                {
                    lifecycles[name] = new LifecycleEntry(null, withdrawnAt);
                    Log.LifecycleWithdrawn(_logger, name, withdrawnAt);
                }
                else if (entry?.Document is { } document && revocations.RevokesSigner(document.SignerKeyId))
                {
                    lifecycles[name] = entry with { Document = null };
                    Log.LifecycleWithdrawn(_logger, name, entry.Sequence);
                }

                CheckRollback(ControlStore.LifecyclePrefix(name), heldSequence, listing.Sequences(name) is [var highest, ..] ? highest : 0);
            }

            _view = new View(revocations, lifecycles.ToFrozenDictionary(StringComparer.Ordinal));
            Interlocked.Exchange(ref _lastRefreshedTicks, now.UtcTicks);
            Interlocked.Exchange(ref _failingSinceTicks, 0);
            _firstLoad.TrySetResult();
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>Logs a failed refresh; the previous view stays in force until <see cref="ServingControlOptions.MaxStaleness"/>.</summary>
    public void RefreshFailed(Exception exception)
    {
        Interlocked.CompareExchange(ref _failingSinceTicks, _time.GetUtcNow().UtcTicks, 0);
        Log.ControlRefreshFailed(_logger, exception);
    }

    private void CheckRollback(string prefix, long held, long highestStored)
    {
        if (highestStored < held && _reported.Add($"{prefix}rollback:{highestStored}"))
        {
            Log.RollbackRefused(_logger, prefix, held, highestStored);
        }
    }

    private void Refused(string path, ControlDocumentException exception)
    {
        if (_reported.Add(path))
        {
            Log.ControlDocumentRefused(_logger, path, exception.Message);
        }
    }

    private sealed record View(RevocationList Revocations, FrozenDictionary<string, LifecycleEntry> Lifecycles);
}
