using System.Threading.Channels;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace ServerlessServe.Core.Audit;

/// <summary>The group-commit loop.</summary>
public sealed partial class BlobAuditSink
{
    // Owned by the loop (and by DisposeAsync after the loop ends).
    private ChainHead? _head;
    private bool _started;
    private long _committedSeq;
    private long _lastCheckpointSeq;

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var group = new List<PendingRecord>(_options.MaxGroupRecords);
        Task<bool>? carriedWait = null;
        try
        {
            while (carriedWait is null ? await reader.WaitToReadAsync().ConfigureAwait(false) : await carriedWait.ConfigureAwait(false))
            {
                carriedWait = null;
                group.Clear();
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
                }
                catch (Exception ex)
                {
                    // Unexpected: forget what we think the head is (storage will tell us) and fail the group closed.
                    _head = null;
                    Fail(group, 0, ex, null);
                }

                group.Clear();
            }
        }
        finally
        {
            // Only reached on shutdown (or a bug): nothing may wait forever.
            foreach (var pending in group)
            {
                pending.Completion.TrySetException(new AuditUnavailableException("The audit log is shutting down."));
            }

            while (reader.TryRead(out var pending))
            {
                pending.Completion.TrySetException(new AuditUnavailableException("The audit log is shutting down."));
            }
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
                await AppendBatchAsync(batch).ConfigureAwait(false);
                Commit(batch);
                next += batch.Records.Count;
                continue;
            }
            catch (Exception ex)
            {
                // Ambiguous: the append may have been stored even though we saw an error. Storage decides.
                if (await TryResyncAsync().ConfigureAwait(false) && _head!.Value.Seq == batch.Head.Seq && _head.Value.Hash == batch.Head.Hash)
                {
                    Log.Resynced(_logger, WriterId, _head.Value.Seq, committed: true);
                    Commit(batch);
                    next += batch.Records.Count;
                    continue;
                }

                if (_head is { } now && now.Seq == expected.Seq)
                {
                    Log.Resynced(_logger, WriterId, now.Seq, committed: false);
                }

                // Fail this batch and everything after it in the group: storage is not taking writes now.
                Fail(live, next, ex, expected);
                return;
            }
        }

        if (_head is { } head && head.Seq - _lastCheckpointSeq >= _options.CheckpointEvery)
        {
            await TryWriteCheckpointAsync(head).ConfigureAwait(false);
        }
    }

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
        var seq = head.Seq;
        var prev = head.Hash;
        for (var i = start; i < live.Count; i++)
        {
            var record = AuditRecord.Create(live[i].Event, WriterId, seq + 1, prev);
            var line = record.ToJsonLine();
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
            seq = record.Seq;
            prev = record.Hash;
        }

        buffer.Position = 0;
        var newHead = new ChainHead(seq, prev, segment, segmentRecords + records.Count, segmentBytes + buffer.Length, SegmentExists: true);
        return new Batch(records, buffer, segment, segmentBytes, segmentExists, newHead);
    }

    private async Task AppendBatchAsync(Batch batch)
    {
        var blob = _container.GetAppendBlobClient(AuditBlobNames.Segment(WriterId, batch.Segment));
        if (!batch.SegmentExists)
        {
            await blob.CreateAsync(new AppendBlobCreateOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/x-ndjson" },
                Conditions = new AppendBlobRequestConditions { IfNoneMatch = ETag.All },
            }).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _appendCalls);
        await blob.AppendBlockAsync(batch.Content, new AppendBlobAppendBlockOptions
        {
            Conditions = new AppendBlobRequestConditions { IfAppendPositionEqual = batch.AppendPosition },
        }).ConfigureAwait(false);
    }

    private void Commit(Batch batch)
    {
        _head = batch.Head;
        _committedSeq = batch.Head.Seq;
        Interlocked.Add(ref _recordsCommitted, batch.Records.Count);
        Log.GroupCommitted(_logger, WriterId, batch.Records[0].Record.Seq, batch.Head.Seq, AuditBlobNames.Segment(WriterId, batch.Segment));
        foreach (var (pending, _) in batch.Records)
        {
            pending.Completion.TrySetResult();
        }
    }

    private void Fail(List<PendingRecord> live, int start, Exception? cause, ChainHead? from)
    {
        var count = live.Count - start;
        if (from is { } head)
        {
            Log.GroupFailed(_logger, cause ?? new AuditUnavailableException("The audit record could not be committed."), WriterId, head.Seq + 1, head.Seq + count, count);
        }
        else
        {
            Log.GroupFailedHeadUnknown(_logger, cause ?? new AuditUnavailableException("The audit chain tail could not be read."), WriterId, count);
        }

        for (var i = start; i < live.Count; i++)
        {
            live[i].Completion.TrySetException(cause is null
                ? new AuditUnavailableException("The audit record could not be committed.")
                : new AuditUnavailableException("The audit record could not be committed.", cause));
        }
    }

    /// <summary>One append: chained records for one segment, the expected append position and the head after it.</summary>
    private sealed record Batch(
        List<(PendingRecord Pending, AuditRecord Record)> Records,
        MemoryStream Content,
        long Segment,
        long AppendPosition,
        bool SegmentExists,
        ChainHead Head);
}
