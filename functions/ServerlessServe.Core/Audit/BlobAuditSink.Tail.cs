using Azure;
using Azure.Storage.Blobs.Models;

namespace ServerlessServe.Core.Audit;

/// <summary>Reading the stored chain tail (start-up and after an ambiguous append) and writing checkpoints.</summary>
public sealed partial class BlobAuditSink
{
    /// <summary>
    /// Sets <see cref="_head"/> from storage; false (head unknown) when storage cannot be read or is behind.
    /// <paramref name="ambiguous"/> is the batch whose append just failed with an error, if any: when the stored chain
    /// ends with it, or with an earlier uncertain batch, right after the tree's last leaf, the tree takes that batch's
    /// leaves instead of being rebuilt from every stored record.
    /// </summary>
    private async Task<bool> TryResyncAsync(Batch? ambiguous = null)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StorageTimeout);
            if (!_started)
            {
                await _container.CreateIfNotExistsAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
            }

            var head = await ReadTailAsync(timeout.Token).ConfigureAwait(false);
            if (head.Seq < _committedSeq)
            {
                // Records this writer committed are gone: never fork the chain over a deletion.
                var committed = _committedSeq;
                TryLog(logger => Log.ChainBehind(logger, WriterId, head.Seq, committed));
                _head = null;
                return false;
            }

            var lastHead = _started ? default : await ReadLastHeadAsync().ConfigureAwait(false);
            if (lastHead.Seq > head.Seq)
            {
                // A continued chain shorter than its own latest signed head: records were deleted. Never write over them
                // (the new records would take seqs a head already covers).
                TryLog(logger => Log.ChainBehind(logger, WriterId, head.Seq, lastHead.Seq));
                _head = null;
                return false;
            }

            if (_started && head.Seq == _committedSeq && !string.Equals(head.Hash, _committedHash, StringComparison.Ordinal))
            {
                // The last record this writer committed was rewritten in place (same seq, other content): chaining on it
                // would put the rewrite under the next signed, witnessed head. Never write on from there (found in
                // review 2026-12-07: only the seq was compared).
                var committed = _committedSeq;
                TryLog(logger => Log.ChainForeign(logger, WriterId, head.Seq, committed));
                _head = null;
                return false;
            }

            var extended = _frontier.Size != head.Seq && ExtendFrontier(head, ambiguous);
            // A batch of its own that landed late after it was let go (KeepUncertain) is taken in, the tree rebuilt from the
            // stored leaves below (counted and logged once that is done); its callers were answered 503 and get no
            // withheld notice.
            var evictedLanded = _started && head.Seq > _committedSeq && !extended && _evictedHeads.Contains((head.Seq, head.Hash));
            if (!evictedLanded && _started && head.Seq > _committedSeq && !extended)
            {
                // Records past what this writer committed that are not a batch of its own that landed (every batch it
                // has in doubt starts right after its committed seq, and at most one can land there): someone with
                // write access appended a well-chained forgery, which needs no key. Taking them in would put them
                // under the next signed, witnessed head, and the verifier would pass them. Never write on from there.
                var committed = _committedSeq;
                TryLog(logger => Log.ChainForeign(logger, WriterId, head.Seq, committed));
                _head = null;
                return false;
            }

            if (_frontier.Size != head.Seq && !extended)
            {
                // A continued chain (at start): the tree is rebuilt from the stored leaves, and the next head follows
                // the latest stored one.
                await RebuildFrontierAsync(head).ConfigureAwait(false);
            }

            if (!_started)
            {
                _lastHeadHash = lastHead.HeadHash ?? AuditRecord.GenesisHash;
            }

            if (evictedLanded)
            {
                var landed = head.Seq;
                TryLog(logger => Log.EvictedBatchLanded(logger, WriterId, landed));
                Interlocked.Add(ref _recordsCommitted, head.Seq - _committedSeq);
            }

            if (head.Seq != _committedSeq)
            {
                _evictedHeads.Clear(); // moved on: no batch let go at the old position can land now
            }

            _head = head;
            _committedSeq = head.Seq;
            _committedHash = head.Hash;
            ResolveUncertain(head);
            if (!_started)
            {
                // A continued chain: whatever it holds is anchored by the checkpoint after this sink's first group.
                _started = true;
                _lastCheckpointSeq = head.Seq;
                TryLog(logger => Log.WriterStarted(logger, WriterId, _container.Name, head.Seq));
            }

            return true;
        }
        catch (Exception ex) when (ex is RequestFailedException or IOException or TimeoutException or OperationCanceledException or AuditUnavailableException or AggregateException)
        {
            TryLog(logger => Log.ResyncFailed(logger, ex, WriterId));
            _head = null;
            return false;
        }
    }

    /// <summary>
    /// When the stored chain ends exactly where <paramref name="ambiguous"/> or an uncertain batch ends, and that batch
    /// starts right after the tree's last leaf, appends its leaves and returns true. An append is one block written whole
    /// or not at all, at the position it was conditioned on, and the stored tail's hash covers the chain before it, so
    /// the stored records are that batch's. Otherwise false: the tree must be rebuilt from storage.
    /// </summary>
    private bool ExtendFrontier(ChainHead head, Batch? ambiguous)
    {
        foreach (var batch in ambiguous is null ? _uncertain : _uncertain.Append(ambiguous))
        {
            if (batch.Head.Seq == head.Seq
                && string.Equals(batch.Head.Hash, head.Hash, StringComparison.Ordinal)
                && _frontier.Size == batch.Head.Seq - batch.Records.Count)
            {
                foreach (var leaf in batch.Leaves)
                {
                    _frontier.Append(leaf);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>The head as stored: last record of the highest non-empty segment, and the highest segment's size.</summary>
    private async Task<ChainHead> ReadTailAsync(CancellationToken cancellationToken)
    {
        var segments = new List<long>();
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainPrefix(WriterId), cancellationToken).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseSegment(item.Name, out var writer, out var segment) && string.Equals(writer, WriterId, StringComparison.Ordinal))
            {
                segments.Add(segment);
            }
        }

        if (segments.Count == 0)
        {
            return ChainHead.Empty;
        }

        segments.Sort();
        var last = segments[^1];
        var lastRecords = 0;
        var lastBytes = 0L;
        for (var i = segments.Count - 1; i >= 0; i--)
        {
            var name = AuditBlobNames.Segment(WriterId, segments[i]);
            var content = (await _container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            if (i == segments.Count - 1)
            {
                lastRecords = AuditLines.Count(content.Span);
                lastBytes = content.Length;
            }

            var lastLine = AuditLines.Reverse(content.Span);
            if (!lastLine.MoveNext())
            {
                continue;
            }

            var (start, length) = lastLine.Current;
            if (!AuditRecord.TryParse(content.Span.Slice(start, length), out var tail, out _)
                || !string.Equals(tail!.ComputeHash(), tail.Hash, StringComparison.Ordinal)
                || !string.Equals(tail.WriterId, WriterId, StringComparison.Ordinal))
            {
                TryLog(logger => Log.TailInvalid(logger, WriterId, name));
                throw new AuditUnavailableException("The stored audit chain tail is not valid.");
            }

            return new ChainHead(tail.Seq, tail.Hash, last, lastRecords, lastBytes, SegmentExists: true);
        }

        return ChainHead.Empty with { Segment = last, SegmentRecords = lastRecords, SegmentBytes = lastBytes, SegmentExists = true };
    }

    /// <summary>Rebuilds the Merkle frontier from every stored record of this chain; they must end at <paramref name="head"/>.</summary>
    private async Task RebuildFrontierAsync(ChainHead head)
    {
        var segments = new List<long>();
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainPrefix(WriterId), CancellationToken.None).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseSegment(item.Name, out var writer, out var segment) && string.Equals(writer, WriterId, StringComparison.Ordinal))
            {
                segments.Add(segment);
            }
        }

        segments.Sort();
        _frontier.Clear();
        var prev = AuditRecord.GenesisHash;
        foreach (var segment in segments)
        {
            var name = AuditBlobNames.Segment(WriterId, segment);
            var content = (await _container.GetBlobClient(name).DownloadContentAsync().ConfigureAwait(false)).Value.Content.ToMemory();
            foreach (var (start, length) in AuditLines.Split(content.Span))
            {
                if (!AuditRecord.TryParse(content.Span.Slice(start, length), out var record, out _)
                    || record!.Seq != _frontier.Size + 1
                    || !string.Equals(record.Prev, prev, StringComparison.Ordinal)
                    || !string.Equals(record.ComputeHash(), record.Hash, StringComparison.Ordinal))
                {
                    _frontier.Clear();
                    TryLog(logger => Log.TailInvalid(logger, WriterId, name));
                    throw new AuditUnavailableException("The stored audit chain is not valid; its Merkle tree cannot be rebuilt.");
                }

                _frontier.Append(MerkleHash.Leaf(record.CanonicalBytes()));
                prev = record.Hash;
            }
        }

        if (_frontier.Size != head.Seq || !string.Equals(prev, head.Hash, StringComparison.Ordinal))
        {
            _frontier.Clear();
            throw new AuditUnavailableException("The stored audit chain changed while its Merkle tree was rebuilt.");
        }
    }

    /// <summary>
    /// <see cref="AuditCheckpoint.HeadHash"/> and tree size of this writer's latest stored head (either format; the size
    /// from its name); zeros and 0 when none.
    /// </summary>
    private async Task<(string? HeadHash, long Seq)> ReadLastHeadAsync()
    {
        string? last = null;
        var lastSeq = -1L;
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.CheckpointPrefix(WriterId), CancellationToken.None).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseCheckpoint(item.Name, out var writer, out var seq) && string.Equals(writer, WriterId, StringComparison.Ordinal) && seq > lastSeq)
            {
                (last, lastSeq) = (item.Name, seq);
            }
        }

        if (last is null)
        {
            return (AuditRecord.GenesisHash, 0);
        }

        var content = (await _container.GetBlobClient(last).DownloadContentAsync().ConfigureAwait(false)).Value.Content.ToMemory();
        return (AuditCheckpoint.TryParse(content.Span, out var checkpoint)
            ? checkpoint!.HeadHash()
            : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content.Span)), lastSeq);
    }

    /// <summary>
    /// Signs and stores a tree head over the records this writer committed, then its countersigned copy in the witness.
    /// Never throws: a head or witness copy that cannot be written is logged and retried (after a later commit, or after
    /// <see cref="AuditOptions.CheckpointInterval"/>); the witness always gets the latest head.
    /// </summary>
    private async Task TryWriteCheckpointAsync()
    {
        _lastCheckpointAttempt = _time.GetTimestamp();
        if (_committedSeq > _lastCheckpointSeq)
        {
            await TryWriteHeadAsync().ConfigureAwait(false);
        }

        StartWitnessWrites();
    }

    private async Task TryWriteHeadAsync()
    {
        var seq = _committedSeq;
        if (_frontier.Size != seq)
        {
            // Cannot happen while the loop owns both; never sign a root that does not cover exactly the chain.
            TryLog(logger => Log.CheckpointFailed(logger, new InvalidOperationException("The Merkle frontier is not at the chain head."), WriterId, seq));
            return;
        }

        // The commit loop waits for a head: bounded like an append, so a slow store holds the next group no longer.
        using var timeout = new CancellationTokenSource(_options.StorageTimeout);
        if (_unconfirmedHead is { } unconfirmed && !await TryConfirmHeadAsync(unconfirmed, timeout.Token).ConfigureAwait(false))
        {
            return;
        }

        if (seq <= _lastCheckpointSeq)
        {
            return; // the head read back covers the chain
        }

        var name = AuditBlobNames.Checkpoint(WriterId, seq);
        var head = AuditCheckpoint.CreateTreeHead(WriterId, seq, _committedHash, Convert.ToHexStringLower(_frontier.Root()), _lastHeadHash, _time.GetUtcNow(), _checkpointKey);
        try
        {
            await _container.GetBlobClient(name).UploadAsync(new BinaryData(head.ToJson()), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, timeout.Token).ConfigureAwait(false);
            Anchored(head);
            TryLog(logger => Log.CheckpointWritten(logger, WriterId, seq, CheckpointKeyId));
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Already there: an earlier attempt of ours landed (write-once: the first one stands). The next head follows
            // the stored one.
            await TryConfirmHeadAsync(head, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Ambiguous: the head may be stored although we saw an error (or gave up waiting). The next head must name it
            // if it is, or the verifier would find a head that no later head names (HeadMissing): it is read back first.
            _unconfirmedHead = head;
            TryLog(logger => Log.CheckpointFailed(logger, ex, WriterId, seq));
        }
    }

    /// <summary>
    /// Reads back the head at <paramref name="written"/>'s tree size after a write whose outcome is unknown: stored as
    /// ours, it is the latest head (the next one names it); not stored, the write never happened. True once decided;
    /// false when storage could not say (no head is written then, lest it skip one that landed).
    /// </summary>
    private async Task<bool> TryConfirmHeadAsync(AuditCheckpoint written, CancellationToken cancellationToken)
    {
        var seq = written.Seq;
        try
        {
            var content = (await _container.GetBlobClient(AuditBlobNames.Checkpoint(WriterId, seq)).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            if (AuditCheckpoint.TryParse(content.Span, out var stored) && stored!.Seq == seq && string.Equals(stored.Hash, written.Hash, StringComparison.Ordinal))
            {
                if (seq > _lastCheckpointSeq || !_anchored)
                {
                    Anchored(stored);
                }
            }

            _unconfirmedHead = null;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Not there now, but the write that erred may still land (held in the network, applied later): a newer head
            // signed now would not name it, and the verifier would take that late copy for a deleted head (HeadMissing).
            // So the same head is written again first: this copy or the late one wins its name, with the same bytes, and
            // the next head names it either way. Before 2026-12-07 it was dropped here (found in review).
            return await TryRewriteHeadAsync(written, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _unconfirmedHead ??= written;
            TryLog(logger => Log.CheckpointFailed(logger, ex, WriterId, seq));
            return false;
        }
    }

    private async Task<bool> TryRewriteHeadAsync(AuditCheckpoint written, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetBlobClient(AuditBlobNames.Checkpoint(WriterId, written.Seq)).UploadAsync(new BinaryData(written.ToJson()), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // The late write landed meanwhile: the same head. Read back, as any head of unknown fate is.
            _unconfirmedHead = written;
            return false;
        }
        catch (Exception ex)
        {
            _unconfirmedHead = written;
            TryLog(logger => Log.CheckpointFailed(logger, ex, WriterId, written.Seq));
            return false;
        }

        if (written.Seq > _lastCheckpointSeq || !_anchored)
        {
            Anchored(written);
        }

        _unconfirmedHead = null;
        TryLog(logger => Log.CheckpointWritten(logger, WriterId, written.Seq, CheckpointKeyId));
        return true;
    }

    /// <summary>
    /// Starts writing the anchored heads to the witness, oldest first, off the commit loop: the witness is another store,
    /// and neither its slowness nor its failure may hold a group (it never fails a request). One writer at a time; it
    /// goes on to heads anchored while it wrote, and stops at a failure (tried again at the next checkpoint attempt).
    /// </summary>
    private void StartWitnessWrites()
    {
        if (!_witnessQueue.IsEmpty && _witnessWrites is not { IsCompleted: false })
        {
            _witnessWrites = Task.Run(WriteWitnessHeadsAsync);
        }
    }

    private async Task WriteWitnessHeadsAsync()
    {
        while (_witnessQueue.TryPeek(out var head) && await TryWriteWitnessAsync(head).ConfigureAwait(false))
        {
            _witnessQueue.TryDequeue(out _);
            Interlocked.Exchange(ref _witnessedSeq, head.Seq);
        }
    }

    /// <summary>Waits for the witness writer in flight, then writes the heads still waiting (shutdown).</summary>
    private async Task FlushWitnessAsync()
    {
        if (_witnessWrites is { } writes)
        {
            await writes.ConfigureAwait(false);
        }

        await WriteWitnessHeadsAsync().ConfigureAwait(false);
    }

    /// <summary>One head into the witness; true when it is there. Never throws.</summary>
    private async Task<bool> TryWriteWitnessAsync(AuditCheckpoint head)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StorageTimeout);
            if (!_witnessReady)
            {
                await _witness!.CreateIfNotExistsAsync(cancellationToken: timeout.Token).ConfigureAwait(false);
                _witnessReady = true;
            }

            var copy = AuditWitnessHead.Create(head, _witnessKey!);
            await _witness!.GetBlobClient(AuditBlobNames.WitnessHead(WriterId, head.Seq)).UploadAsync(new BinaryData(copy.ToJson()), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return true; // an earlier attempt landed
        }
        catch (Exception ex)
        {
            var seq = head.Seq;
            TryLog(logger => Log.WitnessFailed(logger, ex, WriterId, seq));
            return false;
        }
    }

    private void Anchored(AuditCheckpoint head)
    {
        _lastCheckpointSeq = head.Seq;
        _lastHeadHash = head.HeadHash();
        _anchored = true;
        if (_witness is not null && _witnessKey is not null)
        {
            _witnessQueue.Enqueue(head);
            if (_witnessQueue.Count > MaxWitnessBacklog && _witnessQueue.TryDequeue(out var dropped))
            {
                // The witness has been down for MaxWitnessBacklog heads: the oldest waiting one is given up (a later head
                // covers its records; the verifier's Unwitnessed is about the latest).
                var seq = dropped.Seq;
                TryLog(logger => Log.WitnessFailed(logger, new AuditUnavailableException("Too many heads wait for the witness; the oldest is given up."), WriterId, seq));
            }
        }
    }

}
