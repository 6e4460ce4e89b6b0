using System.Threading.Channels;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// The callers' extraction states, per caller and model: held in memory for the request path and shared through an
/// Azure Table (Azurite locally) with every instance and across restarts, without a storage call on the request path.
/// </summary>
/// <remarks>
/// <para>
/// <b>Request path</b> (<see cref="Observe"/> for the rows the model answered, <see cref="ObserveScreened"/> for a
/// request's outcome at the OOD screen): the observations go to the state in memory at once. A caller this instance does
/// not hold starts with a fresh state, and its stored state is read in the background; when it arrives, the
/// observations made meanwhile are replayed into it and it becomes the state in use.
/// </para>
/// <para>
/// <b>Writes</b> (<see cref="FlushAsync"/>, every <see cref="ExtractionStoreOptions.FlushInterval"/> from the hosted
/// service): each changed state is written whole (binary chunks) with If-Match on the ETag of the stored entity it is
/// based on, or as an insert when none is. When another instance wrote it meanwhile (412, or 409 on insert), the stored
/// state is read, this instance's observations not yet written are replayed into it — that is the merge: the stored
/// state plus ours — and the result is adopted in memory and written again. Every observation is kept until a write
/// that holds it succeeds (at most <see cref="ExtractionStoreOptions.MaxPendingObservations"/> per state; beyond that
/// the oldest are missing from a merge, and so from the merged state this instance adopts).
/// </para>
/// <para>
/// <b>What a crash loses</b>: observations made since the last successful write of each state, about one flush
/// interval (more while storage fails). A graceful stop writes everything (<see cref="StopAsync"/>).
/// </para>
/// <para>
/// <b>Bounds</b>: at most <see cref="ExtractionStoreOptions.MaxStates"/> states in use; the least recently used beyond
/// it are evicted, written by the next pass and then dropped. Evicted states waiting to be written are at most a
/// quarter as many again; when storage keeps failing the oldest of them are dropped unwritten (logged).
/// </para>
/// <para>
/// <b>Alarms</b>: <see cref="Observe"/> returns the signals raised for the first time, for the caller to raise one
/// security event. A merge can raise a signal neither instance raised alone (volume, say, summed over instances): the
/// pass that merged raises it through <see cref="ExtractionAlarms"/>. The stored state carries the signals raised, so
/// an instance that reads it does not raise them again; two instances that raise the same signal before either has
/// written it both raise it.
/// </para>
/// </remarks>
public sealed partial class ExtractionStateStore : IAsyncDisposable
{
    private readonly TableClient _table;
    private readonly ExtractionDetector _detector;
    private readonly ExtractionAlarms _alarms;
    private readonly ExtractionStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ExtractionStateStore> _logger;

    private readonly Lock _cacheGate = new();
    private readonly Dictionary<ExtractionKey, LinkedListNode<ExtractionStateEntry>> _live = [];
    private readonly LinkedList<ExtractionStateEntry> _recency = new();
    private readonly Dictionary<ExtractionKey, LinkedListNode<ExtractionStateEntry>> _retiring = [];
    private readonly LinkedList<ExtractionStateEntry> _retiringOrder = new();
    private readonly Channel<ExtractionStateEntry> _loads = Channel.CreateUnbounded<ExtractionStateEntry>(new UnboundedChannelOptions { SingleWriter = false });

    // This store's id in the entities it writes, and the numbers of its observations (from 1, across entries).
    private readonly string _instance = Guid.NewGuid().ToString("N")[..16];
    private long _sequence;

    private CancellationTokenSource? _stopping;
    private Task _background = Task.CompletedTask;
    private volatile bool _tableReady;

    public ExtractionStateStore(
        TableClient table,
        ExtractionDetector detector,
        ExtractionAlarms alarms,
        IOptions<ExtractionStoreOptions> options,
        TimeProvider time,
        ILogger<ExtractionStateStore> logger)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(detector);
        ArgumentNullException.ThrowIfNull(alarms);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _table = table;
        _detector = detector;
        _alarms = alarms;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>States in use (evicted ones waiting to be written not counted).</summary>
    public int Count
    {
        get
        {
            lock (_cacheGate)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>This store's id in the <c>Writers</c> of the entities it writes.</summary>
    internal string Instance => _instance;

    /// <summary>Most evicted states kept until written: a quarter of <see cref="ExtractionStoreOptions.MaxStates"/>, at least one.</summary>
    private int MaxRetiring => Math.Max(1, _options.MaxStates / 4);

    /// <summary>
    /// Observes a request's rows for <paramref name="key"/>, in memory only: <paramref name="rows"/> holds
    /// <paramref name="classes"/>.Length rows of <paramref name="features"/> values, row i predicted as
    /// <paramref name="classes"/>[i]. A row with a NaN or infinite value, or a negative class, is skipped. Thread-safe;
    /// one caller's requests are observed one at a time.
    /// </summary>
    /// <param name="key">The caller and model.</param>
    /// <param name="subject">The policy and version of the request (kept for alarms raised later by a merge).</param>
    /// <param name="rows">The input rows, row-major.</param>
    /// <param name="features">Values per row.</param>
    /// <param name="classes">The class predicted for each row.</param>
    /// <param name="now">The time of the request.</param>
    public ExtractionOutcome Observe(
        ExtractionKey key, ExtractionSubject subject, ReadOnlySpan<float> rows, int features, ReadOnlySpan<int> classes, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        key = key with { Width = features };
        if (rows.Length != (long)classes.Length * features)
        {
            throw new ArgumentException("The rows do not hold one row of the given features per class.", nameof(rows));
        }

        // Reduced outside any lock: each reduced query is kept as the observation's copy for replay.
        var dimension = _detector.ReducedLength(features);
        // Each with the fingerprint of the row as sent, by which a repeat is known (ExtractionDetector.Fingerprint).
        var queries = new List<(float[] Query, int Class, QueryFingerprint Fingerprint)>(classes.Length);
        for (var i = 0; i < classes.Length; i++)
        {
            var query = new float[dimension];
            var row = rows.Slice(i * features, features);
            if (classes[i] >= 0 && _detector.TryReduce(row, query))
            {
                queries.Add((query, classes[i], _detector.Fingerprint(classes[i], row)));
            }
        }

        while (true)
        {
            var entry = Acquire(key, features);
            lock (entry.Gate)
            {
                if (entry.Detached)
                {
                    continue;
                }

                Begin(entry, subject, features);
                ExtractionVerdict? last = null;
                foreach (var (query, predicted, fingerprint) in queries)
                {
                    last = _detector.ObserveReduced(entry.State, query, predicted, now, fingerprint);
                    entry.Pending.Add(PendingObservation.ForQuery(Number(entry), query, predicted, now, fingerprint));
                }

                return Outcome(entry, last ?? _detector.Summarize(entry.State, now), subject, now);
            }
        }
    }

    /// <summary>
    /// Observes a request's outcome at the model's out-of-distribution screen for <paramref name="key"/>, in memory only:
    /// <paramref name="rows"/> rows screened, <paramref name="flaggedRows"/> of them flagged
    /// (<see cref="ExtractionDetector.ObserveScreened"/>). For the screen stage, which runs before the model and reports
    /// the requests it refuses too (they never reach <see cref="Observe"/>). Kept for a merge like a query. Thread-safe;
    /// one caller's requests are observed one at a time.
    /// </summary>
    /// <param name="key">The caller and model.</param>
    /// <param name="subject">The policy and version of the request (kept for alarms raised later by a merge).</param>
    /// <param name="features">Values per row of the extraction policy's input (the state's input length).</param>
    /// <param name="rows">Rows screened.</param>
    /// <param name="flaggedRows">Rows the screen flagged.</param>
    /// <param name="now">The time of the request.</param>
    public ExtractionOutcome ObserveScreened(
        ExtractionKey key, ExtractionSubject subject, int features, int rows, int flaggedRows, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        key = key with { Width = features };
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(flaggedRows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(flaggedRows, rows);
        while (true)
        {
            var entry = Acquire(key, features);
            lock (entry.Gate)
            {
                if (entry.Detached)
                {
                    continue;
                }

                Begin(entry, subject, features);
                if (rows == 0)
                {
                    return Outcome(entry, _detector.Summarize(entry.State, now), subject, now);
                }

                var verdict = _detector.ObserveScreened(entry.State, rows, flaggedRows, now);
                entry.Pending.Add(PendingObservation.ForScreened(Number(entry), rows, flaggedRows, now));
                return Outcome(entry, verdict, subject, now);
            }
        }
    }

    // Under the entry's Gate, before a request's observations: a model whose input changed length (a new version) starts
    // the caller afresh, and the next write replaces the stored state (merges keep ours while the stored one has the old
    // length); the request's policy and version are kept for alarms raised by a merge.
    private void Begin(ExtractionStateEntry entry, ExtractionSubject subject, int features)
    {
        if (entry.State.InputLength != features)
        {
            entry.State = _detector.CreateState(features);
            entry.Pending.Clear();
            entry.Saved = entry.Observed;
            entry.Unreplayable = 0;
        }

        entry.Subject = subject;
    }

    // Under the entry's Gate: numbers the observation just made and makes room in the log that keeps observations for a
    // merge until a write holds them (at the limit the oldest kept goes; a merge then misses it). Returns its number.
    private long Number(ExtractionStateEntry entry)
    {
        entry.Observed = Interlocked.Increment(ref _sequence);
        if (entry.Pending.Count == _options.MaxPendingObservations)
        {
            entry.DroppedUpTo = entry.Pending[0].Sequence;
            entry.Unreplayable++;
            entry.Pending.RemoveAt(0);
        }

        return entry.Observed;
    }

    /// <summary>
    /// How long an alarm whose action has no end of its own (none in shadow mode, or a containment until lifted) holds
    /// its signal before the signal, still active, raises again.
    /// </summary>
    public static readonly TimeSpan RearmAfter = TimeSpan.FromHours(1);

    // Each single-flag signal, listed once (Enum.GetValues allocates a new array on every call).
    private static readonly ExtractionSignals[] SingleSignals =
        [.. Enum.GetValues<ExtractionSignals>().Where(s => s != ExtractionSignals.None && (s & (s - 1)) == 0)];

    // Under the entry's Gate: the verdict with the signals to raise now, marked reported: those raised for the first
    // time, and those still active whose last alarm has run its course (its action's duration, or RearmAfter) or asked
    // for another action than the policy asks for now (a policy moved from shadow to enforce, or given another action;
    // signals only learnt of from the stored state were raised under an action this instance does not know).
    // Before 2026-12-07 a signal raised once was never raised again, so a caller blocked for an hour went on extracting
    // unhindered once the block ended, and one flagged in shadow mode was never contained (found in review).
    private static ExtractionOutcome Outcome(ExtractionStateEntry entry, ExtractionVerdict verdict, ExtractionSubject subject, DateTimeOffset now)
    {
        var newly = entry.State.RaisedEver & ~entry.Reported;
        var action = ExtractionAlarms.ActionOf(subject.Policy);
        var again = verdict.Signals & entry.Reported & ~newly;
        if (again != ExtractionSignals.None && entry.ReportedUnder is { } under && under != action)
        {
            newly |= again;
        }
        else if (again != ExtractionSignals.None)
        {
            var hold = action.Duration ?? RearmAfter;
            foreach (var signal in SingleSignals)
            {
                if ((again & signal) != 0 && (!entry.ReportedAt.TryGetValue(signal, out var at) || now - at >= hold))
                {
                    newly |= signal;
                }
            }
        }

        if (newly != ExtractionSignals.None)
        {
            MarkReported(entry, newly, now);
            entry.ReportedUnder = action;
        }

        return new ExtractionOutcome(verdict, newly);
    }

    // Under the entry's Gate: signals raised (or learnt of from the stored state) at now.
    private static void MarkReported(ExtractionStateEntry entry, ExtractionSignals signals, DateTimeOffset now)
    {
        entry.Reported |= signals;
        foreach (var signal in SingleSignals)
        {
            if ((signals & signal) != 0)
            {
                entry.ReportedAt[signal] = now;
                entry.StampedAtRead.Remove(signal);
            }
        }
    }

    /// <summary>
    /// Starts the background work, without waiting for storage (the host starts whether or not storage answers): the
    /// table is created when missing (tried again by every pass until it is), stored states are read as soon as a
    /// caller is new to this instance, and a write pass runs every <see cref="ExtractionStoreOptions.FlushInterval"/>.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_stopping is not null)
        {
            throw new InvalidOperationException("The store has already started.");
        }

        _stopping = new CancellationTokenSource();
        var stopping = _stopping.Token;
        _background = Task.WhenAll(
            Task.Run(() => LoadLoopAsync(stopping), CancellationToken.None),
            Task.Run(() => FlushLoopAsync(stopping), CancellationToken.None));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops the background work and writes every changed state, evicted ones included (graceful shutdown), within
    /// <paramref name="cancellationToken"/>.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _background.ConfigureAwait(false);
        var unwritten = 0;
        try
        {
            unwritten = await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            unwritten = -1;
        }

        Log.FinalFlush(_logger, unwritten);
    }

    /// <summary>
    /// One pass: reads the stored states of callers new to this instance that are still waiting, writes every changed
    /// state (merging with what other instances wrote), then drops evicted states that are written. A pass with nothing
    /// to do makes no storage call. Returns how many changed states could not be written (they are tried again by the
    /// next pass).
    /// </summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var dirty = DirtyCount();
        if (dirty == 0 && _loads.Reader.Count == 0)
        {
            return 0;
        }

        if (!await EnsureTableAsync(cancellationToken).ConfigureAwait(false))
        {
            return dirty;
        }

        await LoadQueuedAsync(cancellationToken).ConfigureAwait(false);
        List<ExtractionStateEntry> work;
        lock (_cacheGate)
        {
            work = [.. _live.Values.Select(static n => n.Value), .. _retiringOrder];
        }

        var written = 0;
        var merged = 0;
        var failed = 0;
        var attempted = 0;
        Exception? firstFailure = null;
        await Parallel.ForEachAsync(
            work,
            new ParallelOptions { MaxDegreeOfParallelism = _options.FlushConcurrency, CancellationToken = cancellationToken },
            async (entry, token) =>
            {
                var result = await WriteAsync(entry, token).ConfigureAwait(false);
                if (result.Attempted)
                {
                    Interlocked.Increment(ref attempted);
                }

                if (result.Written)
                {
                    Interlocked.Increment(ref written);
                }

                if (result.Merges > 0)
                {
                    Interlocked.Add(ref merged, result.Merges);
                }

                if (result.Failure is not null || (result.Attempted && !result.Written))
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstFailure, result.Failure, null);
                }
            }).ConfigureAwait(false);

        DropWrittenRetirees();
        if (failed > 0)
        {
            Log.FlushIncomplete(_logger, firstFailure ?? new InvalidOperationException("conflicts on every attempt"), failed, attempted);
        }
        else
        {
            Log.Flushed(_logger, written, merged);
        }

        return failed;
    }

    /// <summary>
    /// Reads now the stored states of callers new to this instance that are waiting to be read (what the background
    /// reader does as they come).
    /// </summary>
    internal async Task LoadQueuedAsync(CancellationToken cancellationToken)
    {
        while (_loads.Reader.TryRead(out var entry))
        {
            await LoadAsync(entry, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping is not null)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _background.ConfigureAwait(false);
            _stopping.Dispose();
        }
    }

    // The entry for the key, most recently used now: from the states in use, taken back from the evicted ones, or new
    // (a fresh state whose stored state is then read in the background).
    private ExtractionStateEntry Acquire(ExtractionKey key, int features)
    {
        lock (_cacheGate)
        {
            if (_live.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value;
            }
        }

        var fresh = new ExtractionStateEntry(key, _detector.CreateState(features));
        ExtractionStateEntry entry;
        List<ExtractionStateEntry>? dropped = null;
        lock (_cacheGate)
        {
            if (_live.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value;
            }

            if (_retiring.Remove(key, out var retired))
            {
                _retiringOrder.Remove(retired);
                entry = retired.Value;
            }
            else
            {
                entry = fresh;
            }

            _live[key] = _recency.AddFirst(entry);
            while (_live.Count > _options.MaxStates)
            {
                dropped = Evict(dropped);
            }
        }

        if (ReferenceEquals(entry, fresh))
        {
            _loads.Writer.TryWrite(entry);
        }

        if (dropped is not null)
        {
            Log.EvictedUnwritten(_logger, dropped.Count, dropped.Sum(static e => e.Observed - e.Saved));
        }

        return entry;
    }

    // Under the cache lock: the least recently used state leaves the states in use for the evicted ones, which the next
    // pass writes; past their limit the oldest evicted one is dropped unwritten (storage has been failing).
    private List<ExtractionStateEntry>? Evict(List<ExtractionStateEntry>? dropped)
    {
        var node = _recency.Last!;
        _recency.RemoveLast();
        _live.Remove(node.Value.Key);
        _retiring[node.Value.Key] = _retiringOrder.AddLast(node.Value);
        while (_retiring.Count > MaxRetiring)
        {
            var oldest = _retiringOrder.First!.Value;
            _retiringOrder.RemoveFirst();
            _retiring.Remove(oldest.Key);
            lock (oldest.Gate)
            {
                oldest.Detached = true;
                if (oldest.Dirty)
                {
                    (dropped ??= []).Add(oldest);
                }
            }
        }

        return dropped;
    }

    // Evicted states written since they were evicted are let go.
    private void DropWrittenRetirees()
    {
        lock (_cacheGate)
        {
            var node = _retiringOrder.First;
            while (node is not null)
            {
                var next = node.Next;
                lock (node.Value.Gate)
                {
                    if (!node.Value.Dirty)
                    {
                        node.Value.Detached = true;
                        _retiringOrder.Remove(node);
                        _retiring.Remove(node.Value.Key);
                    }
                }

                node = next;
            }
        }
    }

    private int DirtyCount()
    {
        lock (_cacheGate)
        {
            return _live.Values.Select(static n => n.Value).Concat(_retiringOrder).Count(static e =>
            {
                lock (e.Gate)
                {
                    return e.Dirty;
                }
            });
        }
    }

    private async Task<bool> EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (_tableReady)
        {
            return true;
        }

        try
        {
            await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            _tableReady = true;
            Log.TableReady(_logger, _table.Name);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.TableUnavailable(_logger, ex, _table.Name);
            return false;
        }
    }

    private async Task LoadLoopAsync(CancellationToken stopping)
    {
        try
        {
            await Parallel.ForEachAsync(
                _loads.Reader.ReadAllAsync(stopping),
                new ParallelOptions { MaxDegreeOfParallelism = _options.FlushConcurrency, CancellationToken = stopping },
                async (entry, token) => await LoadAsync(entry, token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping: what is still queued is merged by the final pass's writes.
        }
    }

    private async Task FlushLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.FlushInterval, _time);
        try
        {
            await EnsureTableAsync(stopping).ConfigureAwait(false);
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    await FlushAsync(stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
#pragma warning disable CA1031 // A pass that fails is logged; the next runs on schedule and the states stay in memory.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.PassFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping: StopAsync writes what changed.
        }
    }
}
