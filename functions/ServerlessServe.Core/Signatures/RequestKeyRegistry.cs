using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// This instance's view of the request-signing keys: a snapshot of the key table (each key imported once), refreshed
/// every <see cref="SignatureOptions.KeyRefreshInterval"/> by a background service. A lookup is a dictionary read; a
/// key id the snapshot does not hold makes one read of that one entity, at most once per caller per
/// <see cref="SignatureOptions.UnknownKeyReadInterval"/>, so a key registered a moment ago works at once while made-up
/// key ids cost little.
/// </summary>
public sealed class RequestKeyRegistry : IDisposable
{
    private readonly RequestKeyStore _store;
    private readonly TimeProvider _time;
    private readonly IOptions<SignatureOptions> _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, long> _lastRead = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private long _listsStarted;
    private long _snapshotList;
    private long _lastRefreshedTicks;
    private long _failingSinceTicks;

    public RequestKeyRegistry(RequestKeyStore store, TimeProvider timeProvider, IOptions<SignatureOptions> options, ILogger<RequestKeyRegistry> logger)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>The key table's name.</summary>
    public string TableName => _store.TableName;

    /// <summary>Keys in this instance's view.</summary>
    public int Count => _snapshot.Keys.Count;

    /// <summary>Reads the key table and replaces the snapshot (keys still present keep their imported form).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var list = Interlocked.Increment(ref _listsStarted);
        Load(await _store.ListAsync(cancellationToken: cancellationToken).ConfigureAwait(false), list);

        // Forget callers whose last on-demand read is past its interval, so the gate holds only recent askers.
        var now = _time.GetTimestamp();
        foreach (var (caller, last) in _lastRead)
        {
            if (_time.GetElapsedTime(last, now) >= _options.Value.UnknownKeyReadInterval)
            {
                _lastRead.TryRemove(KeyValuePair.Create(caller, last));
            }
        }
    }

    /// <summary>Replaces the snapshot with <paramref name="keys"/>, as a read of the whole table that began now would (benchmarks).</summary>
    internal void Load(IEnumerable<RequestKey> keys) => Load(keys, Interlocked.Increment(ref _listsStarted));

    // A read of the table that began as list number <paramref name="list"/>: replaces the snapshot unless a later one has.
    private void Load(IEnumerable<RequestKey> keys, long list)
    {
        lock (_lock)
        {
            if (list > _snapshotList)
            {
                _snapshot = _snapshot.Replace(keys);
                _snapshotList = list;
            }
        }

        Interlocked.Exchange(ref _lastRefreshedTicks, _time.GetUtcNow().UtcTicks);
        Interlocked.Exchange(ref _failingSinceTicks, 0);
    }

    /// <summary>
    /// Logs a failed refresh; the previous snapshot stays in force until <see cref="SignatureOptions.KeyMaxStaleness"/>
    /// after the last good read.
    /// </summary>
    public void RefreshFailed(Exception exception)
    {
        Interlocked.CompareExchange(ref _failingSinceTicks, _time.GetUtcNow().UtcTicks, 0);
        Log.KeyRefreshFailed(_logger, _store.TableName, exception);
    }

    /// <summary>True while reads of the table have been failing and the last good one is older than <see cref="SignatureOptions.KeyMaxStaleness"/>.</summary>
    public bool IsStale =>
        Interlocked.Read(ref _failingSinceTicks) != 0
        && _time.GetUtcNow().UtcTicks - Interlocked.Read(ref _lastRefreshedTicks) > _options.Value.KeyMaxStaleness.Ticks;

    /// <summary>The caller's key in force with <paramref name="keyId"/> in the snapshot, or null (no storage read).</summary>
    public ECDsa? Find(string callerPseudonym, string keyId) =>
        _snapshot.Keys.TryGetValue((callerPseudonym, keyId), out var entry) && entry.Key.InForce(_time.GetUtcNow()) ? entry.Public : null;

    /// <summary>
    /// <see cref="Find"/>, and when the snapshot does not hold the key, one read of its entity (rate-limited per caller);
    /// null when the caller has no such key in force. Throws when the table cannot be read, and
    /// <see cref="KeyStoreStaleException"/> when the view is <see cref="IsStale"/>.
    /// </summary>
    public async ValueTask<ECDsa?> GetAsync(string callerPseudonym, string keyId, CancellationToken cancellationToken)
    {
        if (IsStale)
        {
            throw new KeyStoreStaleException();
        }

        if (Find(callerPseudonym, keyId) is { } known)
        {
            return known;
        }

        var now = _time.GetTimestamp();
        var interval = _options.Value.UnknownKeyReadInterval;
        var last = _lastRead.GetOrAdd(callerPseudonym, long.MinValue);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < interval
            || !_lastRead.TryUpdate(callerPseudonym, now, last))
        {
            Log.UnknownKeyReadLimited(_logger);
            return null;
        }

        var listsBefore = Interlocked.Read(ref _listsStarted);
        var key = await _store.GetAsync(callerPseudonym, keyId, cancellationToken).ConfigureAwait(false);
        if (key is null || !key.InForce(_time.GetUtcNow()))
        {
            return null;
        }

        lock (_lock)
        {
            // A snapshot from a read of the table that began after this one is newer: a key it dropped was revoked
            // meanwhile, and adding it back would let it verify for another interval.
            if (_snapshotList <= listsBefore)
            {
                _snapshot = _snapshot.With(key);
            }
        }

        return Find(callerPseudonym, keyId);
    }

    public void Dispose() => _snapshot.Dispose();

    private sealed record Entry(RequestKey Key, ECDsa Public);

    private sealed class Snapshot(Dictionary<(string, string), Entry> keys) : IDisposable
    {
        public static readonly Snapshot Empty = new([]);

        public IReadOnlyDictionary<(string, string), Entry> Keys { get; } = keys;

        public Snapshot Replace(IEnumerable<RequestKey> keys)
        {
            var map = new Dictionary<(string, string), Entry>();
            foreach (var key in keys)
            {
                var id = (key.CallerPseudonym, key.KeyId);
                if (Keys.TryGetValue(id, out var existing) && existing.Key.SubjectPublicKeyInfo.AsSpan().SequenceEqual(key.SubjectPublicKeyInfo))
                {
                    map[id] = existing with { Key = key };
                }
                else if (RequestKeyStore.ImportKey(key.SubjectPublicKeyInfo) is { } imported)
                {
                    map[id] = new Entry(key, imported);
                }
            }

            // Keys dropped from the table are not disposed: a request may still hold one. They are left to the collector.
            return new Snapshot(map);
        }

        public Snapshot With(RequestKey key)
        {
            var map = new Dictionary<(string, string), Entry>(Keys);
            if (RequestKeyStore.ImportKey(key.SubjectPublicKeyInfo) is { } imported)
            {
                map[(key.CallerPseudonym, key.KeyId)] = new Entry(key, imported);
            }

            return new Snapshot(map);
        }

        public void Dispose()
        {
            foreach (var entry in Keys.Values)
            {
                entry.Public.Dispose();
            }
        }
    }
}
