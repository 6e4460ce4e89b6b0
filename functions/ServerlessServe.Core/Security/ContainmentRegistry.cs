using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Security;

/// <summary>
/// This instance's view of the containment in force (throttles, blocks, quarantines, revoked tokens, callers and signing
/// keys): a snapshot of the containment table, refreshed every few seconds
/// (<see cref="RefreshAsync"/>, driven by a background service), plus what this instance set itself since. Every check
/// on the request path is a lookup in memory; the table is read only by the refresh.
/// </summary>
/// <remarks>
/// <para>
/// An entry set here (<see cref="ApplyAsync"/>) takes effect on this instance at once and is then written to the table;
/// other instances see it at their next refresh. Until a refresh that started after the write has completed, the entry
/// is kept beside the snapshot, so a refresh racing the write cannot drop it. An entry whose write failed stays in force
/// here (and is logged) until it expires or the process ends.
/// </para>
/// <para>
/// Throttles are enforced per instance: a token bucket per throttled caller holding at most one minute's allowance, so
/// with n instances a throttled caller can reach n times its rate.
/// </para>
/// </remarks>
public sealed class ContainmentRegistry : IModelQuarantine
{
    private readonly ContainmentStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _firstLoad = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly Lock _localLock = new();
    private readonly List<LocalEntry> _local = [];
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private long _failingSinceTicks;

    public ContainmentRegistry(ContainmentStore store, TimeProvider timeProvider, ILogger<ContainmentRegistry> logger)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>The containment table's name.</summary>
    public string TableName => _store.TableName;

    /// <summary>True once the table has been read once.</summary>
    public bool IsReady => _firstLoad.Task.IsCompleted;

    /// <summary>When the snapshot was last read from the table; null before the first read.</summary>
    public DateTimeOffset? LastRefreshed { get; private set; }

    /// <summary>Completes when the table has been read once, or false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WhenReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (IsReady)
        {
            return true;
        }

        try
        {
            await _firstLoad.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Reads the table and replaces the snapshot (entries set here but not yet confirmed are kept).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var entries = await _store.ListAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        lock (_localLock)
        {
            // Written before this read began: the read has it (or it was lifted since).
            _local.RemoveAll(l => l.WrittenAt is { } written && written <= started);
            _local.RemoveAll(l => !l.Entry.InForce(now));
            // What this instance decided is laid over what the read found, never weakening it (ApplyAsync).
            var snapshot = Snapshot.From(entries, now);
            foreach (var local in _local)
            {
                if (ContainmentEntry.Strengthen(snapshot.Find(local.Entry.Kind, local.Entry.Subject), local.Entry, now) is { } stronger)
                {
                    snapshot = snapshot.With(stronger, now);
                }
            }

            _snapshot = snapshot;
        }

        foreach (var caller in _buckets.Keys)
        {
            if (_snapshot.Standing(caller, now).RequestsPerMinute is null)
            {
                _buckets.TryRemove(caller, out _);
            }
        }

        LastRefreshed = now;
        Interlocked.Exchange(ref _failingSinceTicks, 0);
        _firstLoad.TrySetResult();
    }

    /// <summary>
    /// Whether the snapshot may be used: read once (waiting up to <see cref="ContainmentOptions.FirstReadTimeout"/> for the
    /// first read) and not stale (<see cref="IsStale"/>). Every check against the snapshot fails closed when it is not.
    /// </summary>
    public async ValueTask<bool> IsCurrentAsync(ContainmentOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (IsReady || await WhenReadyAsync(options.FirstReadTimeout, cancellationToken).ConfigureAwait(false))
            && !IsStale(options.MaxStaleness);
    }

    /// <summary>
    /// True while reads of the table have been failing and the last good one is older than
    /// <paramref name="maxStaleness"/> (<see cref="ContainmentOptions.MaxStaleness"/>): the snapshot may lack what
    /// other instances set since, and requests are refused rather than checked against it.
    /// </summary>
    public bool IsStale(TimeSpan maxStaleness) =>
        Interlocked.Read(ref _failingSinceTicks) != 0 && LastRefreshed is { } last && _time.GetUtcNow() - last > maxStaleness;

    /// <summary>
    /// Puts the automatic decision <paramref name="entry"/> in force here at once, then writes it to the table for every
    /// other instance; never weaker than what is in force for its kind and subject, here or in the table
    /// (<see cref="ContainmentEntry.Strengthen"/>): an event does not shorten an operator's block or loosen a throttle.
    /// Throws when the write fails; the entry then stays in force on this instance only.
    /// </summary>
    public async Task ApplyAsync(ContainmentEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        LocalEntry? local = null;
        lock (_localLock)
        {
            var now = _time.GetUtcNow();
            if (ContainmentEntry.Strengthen(_snapshot.Find(entry.Kind, entry.Subject), entry, now) is { } stronger)
            {
                local = new LocalEntry(stronger);
                _local.Add(local);
                _snapshot = _snapshot.With(stronger, now);
            }
        }

        var written = await _store.StrengthenAsync(entry, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        lock (_localLock)
        {
            if (local is not null)
            {
                local.Entry = written;
                local.WrittenAt = _time.GetTimestamp();
            }

            // What the table holds now (an operator's entry written meanwhile, combined with this one), in force here at
            // once rather than at the next refresh; never over a stronger decision made here meanwhile.
            var now = _time.GetUtcNow();
            if (ContainmentEntry.Strengthen(_snapshot.Find(written.Kind, written.Subject), written, now) is { } stronger)
            {
                _snapshot = _snapshot.With(stronger, now);
            }
        }
    }

    /// <summary>What is in force for the caller with pseudonym <paramref name="caller"/>.</summary>
    public CallerStanding Standing(string caller) => _snapshot.Standing(caller, _time.GetUtcNow());

    /// <summary>
    /// Takes one request from a throttled caller's allowance on this instance; false when it is spent (answer 429).
    /// </summary>
    public bool TryAcquire(string caller, int requestsPerMinute) => TryAcquire(caller, requestsPerMinute, out _);

    /// <summary>As <see cref="TryAcquire(string, int)"/>; when refused, <paramref name="retryAfter"/> is how long until the next request's worth.</summary>
    public bool TryAcquire(string caller, int requestsPerMinute, out TimeSpan retryAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerMinute, 1);
        var bucket = _buckets.GetOrAdd(caller, static (_, state) => new TokenBucket(state.Rate, state.Now), (Rate: requestsPerMinute, Now: _time.GetTimestamp()));
        return bucket.TryTake(requestsPerMinute, _time, out retryAfter);
    }

    /// <summary>True while the token with id <paramref name="tokenId"/> is revoked; false for a token without an id.</summary>
    public bool IsTokenRevoked(string? tokenId) =>
        tokenId is { Length: > 0 } id && _snapshot.Has(ContainmentKind.RevokeToken, id, _time.GetUtcNow());

    /// <inheritdoc />
    public bool IsQuarantined(string name, string version) =>
        _snapshot.Has(ContainmentKind.Quarantine, ContainmentEntry.ModelSubject(name, version), _time.GetUtcNow());

    /// <inheritdoc />
    public bool IsSignerRevoked(string signerKeyId) =>
        _snapshot.Has(ContainmentKind.RevokeSigner, signerKeyId, _time.GetUtcNow());

    /// <summary>The entries in force in this instance's view.</summary>
    public IReadOnlyList<ContainmentEntry> InForce()
    {
        var now = _time.GetUtcNow();
        return _snapshot.Entries.Where(e => e.InForce(now)).ToList();
    }

    /// <summary>Logs a failed refresh; the previous snapshot stays in force.</summary>
    public void RefreshFailed(Exception exception)
    {
        Interlocked.CompareExchange(ref _failingSinceTicks, _time.GetUtcNow().UtcTicks, 0);
        Log.ContainmentRefreshFailed(_logger, _store.TableName, exception);
    }

    private sealed class LocalEntry(ContainmentEntry entry)
    {
        public ContainmentEntry Entry { get; set; } = entry;

        public long? WrittenAt { get; set; }
    }

    private sealed class TokenBucket(int capacity, long now)
    {
        private readonly Lock _lock = new();
        private double _tokens = capacity;
        private long _last = now;

        public bool TryTake(int requestsPerMinute, TimeProvider time, out TimeSpan retryAfter)
        {
            lock (_lock)
            {
                var current = time.GetTimestamp();
                var elapsed = time.GetElapsedTime(_last, current);
                _last = current;
                _tokens = Math.Min(requestsPerMinute, _tokens + (elapsed.TotalMinutes * requestsPerMinute));
                if (_tokens < 1)
                {
                    retryAfter = TimeSpan.FromMinutes((1 - _tokens) / requestsPerMinute);
                    return false;
                }

                _tokens -= 1;
                retryAfter = TimeSpan.Zero;
                return true;
            }
        }
    }

    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = new([]);

        private readonly Dictionary<(ContainmentKind Kind, string Subject), ContainmentEntry> _bySubject;

        private Snapshot(Dictionary<(ContainmentKind Kind, string Subject), ContainmentEntry> bySubject) => _bySubject = bySubject;

        public IEnumerable<ContainmentEntry> Entries => _bySubject.Values;

        public static Snapshot From(IEnumerable<ContainmentEntry> entries, DateTimeOffset now)
        {
            var map = new Dictionary<(ContainmentKind, string), ContainmentEntry>();
            foreach (var entry in entries)
            {
                if (entry.InForce(now))
                {
                    // The latest decision for a kind and subject wins, as in the table.
                    var key = (entry.Kind, entry.Subject);
                    if (!map.TryGetValue(key, out var existing) || existing.Created <= entry.Created)
                    {
                        map[key] = entry;
                    }
                }
            }

            return new Snapshot(map);
        }

        public Snapshot With(ContainmentEntry entry, DateTimeOffset now) =>
            From(Entries.Where(e => e.Kind != entry.Kind || !string.Equals(e.Subject, entry.Subject, StringComparison.Ordinal)).Append(entry), now);

        public ContainmentEntry? Find(ContainmentKind kind, string subject) => _bySubject.GetValueOrDefault((kind, subject));

        public CallerStanding Standing(string caller, DateTimeOffset now)
        {
            if (_bySubject.Count == 0)
            {
                return CallerStanding.Clear;
            }

            var blocked = _bySubject.TryGetValue((ContainmentKind.Block, caller), out var block) && block.InForce(now);
            int? rate = _bySubject.TryGetValue((ContainmentKind.Throttle, caller), out var throttle) && throttle.InForce(now)
                ? Math.Max(1, throttle.RequestsPerMinute ?? 1)
                : null;
            DateTimeOffset? revokedBefore = _bySubject.TryGetValue((ContainmentKind.RevokeCaller, caller), out var revocation) && revocation.InForce(now)
                ? revocation.Created
                : null;
            return new CallerStanding(blocked, rate, revokedBefore);
        }

        public bool Has(ContainmentKind kind, string subject, DateTimeOffset now) =>
            _bySubject.Count != 0 && _bySubject.TryGetValue((kind, subject), out var entry) && entry.InForce(now);
    }
}
