using System.Threading.Channels;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Audit;

/// <summary>The group-commit loop.</summary>
public sealed partial class BlobAuditSink
{
    // Owned by the loop (and by DisposeAsync after the loop ends).
    private ChainHead? _head;

    // Batches whose append failed with an error, not a refusal: storage may still apply one (a request held in the
    // network), in which case its records are in the chain though their callers were answered 503. A resync that finds
    // the chain ending exactly where one of them ends says it did; its records then get withheld notices.
    private readonly List<Batch> _uncertain = [];
    private readonly List<PendingRecord> _notices = []; // withheld notices the queue could not take: the loop's own
    private readonly HashSet<(long Seq, string Hash)> _evictedHeads = []; // heads of uncertain batches let go (KeepUncertain)
    private bool _started;
    private long _committedSeq;
    private string _committedHash = AuditRecord.GenesisHash;
    private long _lastCheckpointSeq;
    private bool _anchored;
    private long _lastCheckpointAttempt;
    private readonly MerkleFrontier _frontier = new();
    private string _lastHeadHash = AuditRecord.GenesisHash;
    private const int MaxWitnessBacklog = 1_000;

    // Heads anchored in the log, waiting for the witness: the loop adds (Anchored), the witness writer takes.
    private readonly System.Collections.Concurrent.ConcurrentQueue<AuditCheckpoint> _witnessQueue = new();
    private AuditCheckpoint? _unconfirmedHead; // a head whose write failed with an error: it may be stored
    private Task? _witnessWrites; // the witness writer, off the loop
    private bool _witnessReady; // the witness writer's own
    private long _witnessedSeq;

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var group = new List<PendingRecord>(_options.MaxGroupRecords);
        Task<bool>? carriedWait = null;
        try
        {
            while (true)
            {
                var next = carriedWait ?? reader.WaitToReadAsync().AsTask();
                carriedWait = null;
                if (_notices.Count > 0 && !next.IsCompleted
                    && !await CompletesWithinAsync(next, CheckpointDueIn() is { } soon && soon < NoticeWait ? soon : NoticeWait).ConfigureAwait(false))
                {
                    // Withheld notices held while no record comes (a second at most, so that a store that keeps failing
                    // them is not asked again at once): a group of their own, rather than waiting for the next request;
                    // not while the breaker is open (it spaces the store's tries); and a checkpoint due meanwhile is
                    // written as on any idle wait (review 2026-12-07).
                    carriedWait = next;
                    if (!IsBroken)
                    {
                        group.Clear();
                        TakeNotices(group, last: true);
                        try
                        {
                            await CommitAsync(group).ConfigureAwait(false);
                        }
                        catch (Exception ex)
                        {
                            // As on the main path: the head forgotten, and the notices given back (Fail).
                            _head = null;
                            Fail(group.Where(static p => !p.Completion.Task.IsCompleted).ToList(), 0, ex, null);
                        }

                        group.Clear();
                    }

                    if (CheckpointDueIn() is { } anchorIn && anchorIn <= TimeSpan.Zero)
                    {
                        await TryWriteCheckpointAsync().ConfigureAwait(false);
                    }

                    continue;
                }

                if (!next.IsCompleted && CheckpointDueIn() is { } due && !await CompletesWithinAsync(next, due).ConfigureAwait(false))
                {
                    // Idle while committed records have waited CheckpointInterval for a checkpoint: anchor them now.
                    carriedWait = next;
                    await TryWriteCheckpointAsync().ConfigureAwait(false);
                    continue;
                }

                if (!await next.ConfigureAwait(false))
                {
                    break;
                }

                group.Clear();
                TakeNotices(group);
                Drain(reader, group);
                var deadline = _time.GetTimestamp() + (long)(_options.GroupWindow.TotalSeconds * _time.TimestampFrequency);
                while (group.Count < _options.MaxGroupRecords)
                {
                    var remaining = _time.GetElapsedTime(_time.GetTimestamp(), deadline);
                    if (remaining <= TimeSpan.Zero)
                    {
                        break;
                    }

                    var wait = reader.WaitToReadAsync().AsTask();
                    if (!wait.IsCompleted && await Task.WhenAny(wait, Task.Delay(remaining, _time)).ConfigureAwait(false) != wait)
                    {
                        carriedWait = wait; // the window closed first: wait on this next time, never twice at once
                        break;
                    }

                    if (!await wait.ConfigureAwait(false))
                    {
                        break;
                    }

                    Drain(reader, group);
                }

                try
                {
                    await CommitAsync(group).ConfigureAwait(false);
                    if (CheckpointDueAfterCommit())
                    {
                        // After the group's waiters were completed, before the next group is taken (see docs/audit.md).
                        await TryWriteCheckpointAsync().ConfigureAwait(false);
                    }
                }
                catch (Exception ex)
                {
                    // Unexpected: forget what we think the head is (storage will tell us) and fail the group closed.
                    _head = null;
                    Fail(group.Where(static p => !p.Completion.Task.IsCompleted).ToList(), 0, ex, null);
                }

                group.Clear();
            }
        }
        catch (Exception ex)
        {
            // A bug: nothing above is meant to throw. Stop taking records (finally) rather than leave them waiting.
            TryLog(logger => Log.LoopFailed(logger, ex, WriterId));
        }
        finally
        {
            // Notices the closed queue could not take (raised while the last groups drained): the last group.
            // A group that fails gives its notices back (Fail): three such, and the rest are left (logged, 5016).
            for (var (last, failures) = (new List<PendingRecord>(), 0); _notices.Count > 0 && Volatile.Read(ref _disposed) == 1 && failures < 3; last.Clear())
            {
                var before = _notices.Count;
                TakeNotices(last, last: true);
                try
                {
                    await CommitAsync(last).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    TryLog(logger => Log.LoopFailed(logger, ex, WriterId));
                    break;
                }

                if (_notices.Count >= before)
                {
                    failures++;
                }
            }

            // Reached on shutdown or after a bug. Nothing may wait forever: complete the writer so that every later
            // AppendAsync fails at once, then fail whatever is still queued (nothing can be added after completion).
            var message = Volatile.Read(ref _disposed) == 1 ? "The audit log is shutting down." : "The audit log has stopped after an internal error.";
            _queue.Writer.TryComplete(new AuditUnavailableException(message));
            foreach (var pending in group)
            {
                pending.Completion.TrySetException(new AuditUnavailableException(message));
            }

            while (reader.TryRead(out var pending))
            {
                pending.Completion.TrySetException(new AuditUnavailableException(message));
            }
        }
    }

    /// <summary>True when <paramref name="task"/> completes within <paramref name="timeout"/> (measured on the sink's clock).</summary>
    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return task.IsCompleted;
        }

        using var cancel = new CancellationTokenSource();
        var first = await Task.WhenAny(task, Task.Delay(timeout, _time, cancel.Token)).ConfigureAwait(false);
        await cancel.CancelAsync().ConfigureAwait(false);
        return first == task;
    }

    /// <summary>
    /// After a commit: a checkpoint is due for the first group this sink commits (so a chain is anchored from its start),
    /// then once <see cref="AuditOptions.CheckpointEvery"/> records follow the last one or
    /// <see cref="AuditOptions.CheckpointInterval"/> has passed since the last attempt.
    /// </summary>
    private bool CheckpointDueAfterCommit() =>
        _committedSeq > _lastCheckpointSeq
        && (!_anchored
            || _committedSeq - _lastCheckpointSeq >= _options.CheckpointEvery
            || _time.GetElapsedTime(_lastCheckpointAttempt) >= _options.CheckpointInterval);

    /// <summary>
    /// While idle: time left until committed records that no checkpoint covers must be anchored, or the latest head be
    /// tried again in the witness; null when neither. While the witness writer is at work, not before it can have timed
    /// out (<see cref="AuditOptions.StorageTimeout"/>), so the loop never spins on it.
    /// </summary>
    private TimeSpan? CheckpointDueIn()
    {
        var due = _options.CheckpointInterval - _time.GetElapsedTime(_lastCheckpointAttempt);
        if (_committedSeq > _lastCheckpointSeq)
        {
            return due;
        }

        if (_witnessQueue.IsEmpty)
        {
            return null;
        }

        return _witnessWrites is { IsCompleted: false } && due < _options.StorageTimeout ? _options.StorageTimeout : due;
    }

    // The withheld notices the queue could not take go first into a group (they have no waiter): up to half of it while
    // records come, so that callers' records always get in (notices given back by failed groups could otherwise fill
    // every group: review 2026-12-07; in a group of one, every other group), the whole of it in a group of their own when no record
    // has come for NoticeWait, and for the last groups at shutdown.
    private static readonly TimeSpan NoticeWait = TimeSpan.FromSeconds(1);

    private bool _noticeTurn; // the loop's own: whether a group of one takes a notice this time

    private void TakeNotices(List<PendingRecord> group, bool last = false)
    {
        var room = last ? _options.MaxGroupRecords : _options.MaxGroupRecords / 2;
        if (room == 0 && _notices.Count > 0)
        {
            // A group of one: every other group is a notice's, so that neither waits on the other for good.
            _noticeTurn = !_noticeTurn;
            room = _noticeTurn ? 1 : 0;
        }

        var take = Math.Min(_notices.Count, room - group.Count);
        if (take > 0)
        {
            group.AddRange(_notices.GetRange(0, take));
            _notices.RemoveRange(0, take);
        }
    }

    private void Drain(ChannelReader<PendingRecord> reader, List<PendingRecord> group)
    {
        while (group.Count < _options.MaxGroupRecords && reader.TryRead(out var pending))
        {
            group.Add(pending);
        }
    }

    private async Task CommitAsync(List<PendingRecord> group)
    {
        // A waiter that was cancelled before its record was grouped is simply not written.
        var live = group.Where(static p => !p.Completion.Task.IsCompleted).ToList();
        if (live.Count == 0)
        {
            return;
        }

        if (_head is null && !await TryResyncAsync().ConfigureAwait(false))
        {
            Fail(live, 0, null, _head);
            return;
        }

        var next = 0;
        while (next < live.Count)
        {
            var batch = BuildBatch(live, next);
            var expected = _head!.Value;
            try
            {
                using (var timeout = new CancellationTokenSource(_options.StorageTimeout))
                {
                    await AppendBatchAsync(batch, timeout.Token).ConfigureAwait(false);
                }

                Commit(batch);
                next += batch.Records.Count;
                continue;
            }
            catch (Exception ex)
            {
                // Ambiguous: the append may have been stored even though we saw an error. Storage decides.
                if (await TryResyncAsync(batch).ConfigureAwait(false) && _head!.Value.Seq == batch.Head.Seq && _head.Value.Hash == batch.Head.Hash)
                {
                    var seq = _head.Value.Seq;
                    TryLog(logger => Log.Resynced(logger, WriterId, seq, committed: true));
                    Commit(batch);
                    next += batch.Records.Count;
                    continue;
                }

                if (_head is { } now && now.Seq == expected.Seq)
                {
                    TryLog(logger => Log.Resynced(logger, WriterId, now.Seq, committed: false));
                }

                // Fail this batch and everything after it in the group: storage is not taking writes now. The batch may
                // still land later (the next resync tells).
                KeepUncertain(batch);
                Fail(live, next, ex, expected);
                return;
            }
        }
    }

    /// <summary>
    /// Keeps <paramref name="batch"/> as one that may still land, without its block (only its records, leaves and head are
    /// read again), and at most <see cref="MaxUncertain"/> of them, the latest: while appends fail and reads succeed (a
    /// lost write permission, a retention policy refusing appends) the head does not move, every group's batch stayed at
    /// its position, and the list grew by up to 4 MiB a group for as long as it lasted (found in review 2026-12-07). An
    /// append held in the network lands within the store's own timeout, long before that many later groups have failed.
    /// </summary>
    private void KeepUncertain(Batch batch)
    {
        _uncertain.Add(batch with { Content = Released });
        if (_uncertain.Count > UncertainCap)
        {
            // Of a batch let go only its head is kept (about 100 bytes): should it land after all, the chain is its own,
            // rebuilt from storage, not read as someone else's appends, which would stop the writer for good (review of
            // the cap, 2026-12-07). Its records then get no withheld notice (log 5017).
            foreach (var evicted in _uncertain.Take(_uncertain.Count - UncertainCap))
            {
                _evictedHeads.Add((evicted.Head.Seq, evicted.Head.Hash));
            }

            _uncertain.RemoveRange(0, _uncertain.Count - UncertainCap);
        }
    }

    internal const int MaxUncertain = 64;

    /// <summary>How many uncertain batches are kept whole (<see cref="MaxUncertain"/>; tests set fewer).</summary>
    internal int UncertainCap { get; init; } = MaxUncertain;

    /// <summary>The batches kept as may-still-land (tests; read while the loop is idle).</summary>
    internal int UncertainBatches => _uncertain.Count;

    private static readonly MemoryStream Released = new([], writable: false);

    /// <summary>Chains as many records from <paramref name="start"/> as fit one append into the current (or next) segment.</summary>
    private Batch BuildBatch(List<PendingRecord> live, int start)
    {
        var head = _head!.Value;
        var segment = head.Segment;
        var segmentRecords = head.SegmentRecords;
        var segmentBytes = head.SegmentBytes;
        var segmentExists = head.SegmentExists;
        var buffer = new MemoryStream();
        var records = new List<(PendingRecord Pending, AuditRecord Record)>();
        var leaves = new List<byte[]>();
        var seq = head.Seq;
        var prev = head.Hash;
        for (var i = start; i < live.Count; i++)
        {
            var record = live[i].Record.InChain(seq + 1, prev, out var leaf, out var line);
            var segmentFull = segmentRecords + records.Count >= _options.SegmentMaxRecords
                || segmentBytes + buffer.Length + line.Length > _options.SegmentMaxBytes;
            if (records.Count > 0 && (segmentFull || records.Count >= _options.MaxGroupRecords || buffer.Length + line.Length > _options.MaxGroupBytes))
            {
                break;
            }

            if (segmentFull && segmentRecords > 0)
            {
                segment++;
                segmentRecords = 0;
                segmentBytes = 0;
                segmentExists = false;
            }

            buffer.Write(line);
            records.Add((live[i], record));
            leaves.Add(leaf);
            seq = record.Seq;
            prev = record.Hash;
        }

        buffer.Position = 0;
        var newHead = new ChainHead(seq, prev, segment, segmentRecords + records.Count, segmentBytes + buffer.Length, SegmentExists: true);
        return new Batch(records, leaves, buffer, segment, segmentBytes, segmentExists, newHead);
    }

    private async Task AppendBatchAsync(Batch batch, CancellationToken cancellationToken)
    {
        var blob = _container.GetAppendBlobClient(AuditBlobNames.Segment(WriterId, batch.Segment));
        if (!batch.SegmentExists)
        {
            await blob.CreateAsync(new AppendBlobCreateOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/x-ndjson" },
                Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _appendCalls);
        await blob.AppendBlockAsync(batch.Content, new AppendBlobAppendBlockOptions
        {
            Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = batch.AppendPosition },
        }, cancellationToken).ConfigureAwait(false);
    }

    private void Commit(Batch batch)
    {
        // After an ambiguous append the resync may have rebuilt the tree from storage, this batch included.
        if (_frontier.Size == batch.Head.Seq - batch.Records.Count)
        {
            foreach (var leaf in batch.Leaves)
            {
                _frontier.Append(leaf);
            }
        }

        _head = batch.Head;
        _uncertain.Clear(); // the chain has moved on from where they would have gone: none of them can land now
        _evictedHeads.Clear();
        _committedSeq = batch.Head.Seq;
        _committedHash = batch.Head.Hash;
        Interlocked.Add(ref _recordsCommitted, batch.Records.Count);
        List<AuditRecord>? abandoned = null;
        for (var i = 0; i < batch.Records.Count; i++)
        {
            var (pending, record) = batch.Records[i];
            pending.Leaf = new AuditLeaf(WriterId, record.Seq, Convert.ToHexStringLower(batch.Leaves[i]));
            if (!pending.Completion.TrySetResult() && pending.Completion.Task.IsCanceled)
            {
                // Its caller gave up (the closing deadline) after the record went into this append: the response was
                // withheld although the record says what it would have been.
                (abandoned ??= []).Add(record);
            }
        }

        OnGroupCommitted(abandoned);

        TryLog(logger => Log.GroupCommitted(logger, WriterId, batch.Records[0].Record.Seq, batch.Head.Seq, AuditBlobNames.Segment(WriterId, batch.Segment)));
    }

    private void Fail(List<PendingRecord> live, int start, Exception? cause, ChainHead? from)
    {
        OnGroupFailed();
        for (var i = start; i < live.Count; i++)
        {
            if (string.Equals(live[i].Record.Operation, WithheldOperation, StringComparison.Ordinal))
            {
                // A withheld notice has no waiter to tell: it goes ahead of a later group instead, or the log would say
                // released for a response that never left (review 2026-12-07). Should this group land late after all,
                // the notice stands twice, which says no more than once.
                _notices.Add(live[i]);
                continue;
            }

            live[i].Completion.TrySetException(cause is null
                ? new AuditUnavailableException("The audit record could not be committed.")
                : new AuditUnavailableException("The audit record could not be committed.", cause));
        }

        var count = live.Count - start;
        if (from is { } head)
        {
            TryLog(logger => Log.GroupFailed(logger, cause ?? new AuditUnavailableException("The audit record could not be committed."), WriterId, head.Seq + 1, head.Seq + count, count));
        }
        else
        {
            TryLog(logger => Log.GroupFailedHeadUnknown(logger, cause ?? new AuditUnavailableException("The audit chain tail could not be read."), WriterId, count));
        }
    }

    /// <summary>Logs, but a failing logger can neither end the commit loop nor change a request's outcome.</summary>
    private void TryLog(Action<ILogger> log)
    {
        try
        {
            log(_logger);
        }
        catch (Exception)
        {
            // Deliberately ignored: the audit outcome is what matters, and it is already decided.
        }
    }

    /// <summary>One append: chained records for one segment, the expected append position and the head after it.</summary>
    private sealed record Batch(
        List<(PendingRecord Pending, AuditRecord Record)> Records,
        List<byte[]> Leaves,
        MemoryStream Content,
        long Segment,
        long AppendPosition,
        bool SegmentExists,
        ChainHead Head);
}
