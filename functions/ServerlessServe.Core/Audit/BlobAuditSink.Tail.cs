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

            _head = head;
            _committedSeq = head.Seq;
            _committedHash = head.Hash;
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

    /// <summary>
    /// Signs and stores a checkpoint over the last record this writer committed. Never throws: a checkpoint that cannot
    /// be written is logged and retried (after a later commit, or after <see cref="AuditOptions.CheckpointInterval"/>).
    /// </summary>
    private async Task TryWriteCheckpointAsync()
    {
        var seq = _committedSeq;
        try
        {
            _lastCheckpointAttempt = _time.GetTimestamp();
            var checkpoint = AuditCheckpoint.Create(WriterId, seq, _committedHash, _time.GetUtcNow(), _checkpointKey);
            await _container.GetBlobClient(AuditBlobNames.Checkpoint(WriterId, seq)).UploadAsync(new BinaryData(checkpoint.ToJson()), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }).ConfigureAwait(false);
            Anchored(seq);
            TryLog(logger => Log.CheckpointWritten(logger, WriterId, seq, CheckpointKeyId));
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Already there: a retry of our own write whose first attempt landed. Write-once means the first one stands.
            Anchored(seq);
        }
        catch (Exception ex)
        {
            TryLog(logger => Log.CheckpointFailed(logger, ex, WriterId, seq));
        }
    }

    private void Anchored(long seq)
    {
        _lastCheckpointSeq = seq;
        _anchored = true;
    }
}
