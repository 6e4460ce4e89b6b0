using Azure;
using Azure.Storage.Blobs.Models;

namespace ServerlessServe.Core.Audit;

/// <summary>Reading the stored chain tail (start-up and after an ambiguous append) and writing checkpoints.</summary>
public sealed partial class BlobAuditSink
{
    /// <summary>Sets <see cref="_head"/> from storage; false (head unknown) when storage cannot be read or is behind.</summary>
    private async Task<bool> TryResyncAsync()
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

            if (_frontier.Size != head.Seq)
            {
                // A continued chain (or records written by another process under this id): the tree is rebuilt from the
                // stored leaves, and the next head follows the latest stored one.
                await RebuildFrontierAsync(head).ConfigureAwait(false);
            }

            if (!_started)
            {
                _lastHeadHash = await ReadLastHeadHashAsync().ConfigureAwait(false);
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
            var lines = AuditLines.Split(content.Span);
            if (i == segments.Count - 1)
            {
                lastRecords = lines.Count;
                lastBytes = content.Length;
            }

            if (lines.Count == 0)
            {
                continue;
            }

            var (start, length) = lines[^1];
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

    /// <summary><see cref="AuditCheckpoint.HeadHash"/> of this writer's latest stored head (either format); zeros when none.</summary>
    private async Task<string> ReadLastHeadHashAsync()
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
            return AuditRecord.GenesisHash;
        }

        var content = (await _container.GetBlobClient(last).DownloadContentAsync().ConfigureAwait(false)).Value.Content.ToMemory();
        return AuditCheckpoint.TryParse(content.Span, out var checkpoint)
            ? checkpoint!.HeadHash()
            : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content.Span));
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

        if (_pendingWitness is not null)
        {
            await TryWriteWitnessAsync(_pendingWitness).ConfigureAwait(false);
        }
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

        var name = AuditBlobNames.Checkpoint(WriterId, seq);
        try
        {
            var head = AuditCheckpoint.CreateTreeHead(WriterId, seq, _committedHash, Convert.ToHexStringLower(_frontier.Root()), _lastHeadHash, _time.GetUtcNow(), _checkpointKey);
            await _container.GetBlobClient(name).UploadAsync(new BinaryData(head.ToJson()), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }).ConfigureAwait(false);
            Anchored(head);
            TryLog(logger => Log.CheckpointWritten(logger, WriterId, seq, CheckpointKeyId));
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Already there: an earlier attempt of ours landed (write-once: the first one stands). The next head follows
            // the stored one.
            try
            {
                var content = (await _container.GetBlobClient(name).DownloadContentAsync().ConfigureAwait(false)).Value.Content.ToMemory();
                if (AuditCheckpoint.TryParse(content.Span, out var stored) && stored!.Seq == seq && string.Equals(stored.Hash, _committedHash, StringComparison.Ordinal))
                {
                    Anchored(stored);
                }
            }
            catch (Exception readFailure)
            {
                TryLog(logger => Log.CheckpointFailed(logger, readFailure, WriterId, seq));
            }
        }
        catch (Exception ex)
        {
            TryLog(logger => Log.CheckpointFailed(logger, ex, WriterId, seq));
        }
    }

    private async Task TryWriteWitnessAsync(AuditCheckpoint head)
    {
        if (_witness is null || _witnessKey is null)
        {
            _pendingWitness = null;
            return;
        }

        try
        {
            if (!_witnessReady)
            {
                await _witness.CreateIfNotExistsAsync().ConfigureAwait(false);
                _witnessReady = true;
            }

            var copy = AuditWitnessHead.Create(head, _witnessKey);
            await _witness.GetBlobClient(AuditBlobNames.WitnessHead(WriterId, head.Seq)).UploadAsync(new BinaryData(copy.ToJson()), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }).ConfigureAwait(false);
            Witnessed(head);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            Witnessed(head); // an earlier attempt landed
        }
        catch (Exception ex)
        {
            var seq = head.Seq;
            TryLog(logger => Log.WitnessFailed(logger, ex, WriterId, seq));
        }
    }

    private void Witnessed(AuditCheckpoint head)
    {
        if (ReferenceEquals(_pendingWitness, head))
        {
            _pendingWitness = null;
        }

        Interlocked.Exchange(ref _witnessedSeq, head.Seq);
    }

    private void Anchored(AuditCheckpoint head)
    {
        _lastCheckpointSeq = head.Seq;
        _lastHeadHash = head.HeadHash();
        _anchored = true;
        _pendingWitness = _witness is null ? null : head;
    }

}
