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
            if (!_started)
            {
                await _container.CreateIfNotExistsAsync().ConfigureAwait(false);
            }

            var head = await ReadTailAsync().ConfigureAwait(false);
            if (head.Seq < _committedSeq)
            {
                // Records this writer committed are gone: never fork the chain over a deletion.
                Log.ChainBehind(_logger, WriterId, head.Seq, _committedSeq);
                _head = null;
                return false;
            }

            _head = head;
            _committedSeq = head.Seq;
            if (!_started)
            {
                _started = true;
                _lastCheckpointSeq = head.Seq;
                Log.WriterStarted(_logger, WriterId, _container.Name, head.Seq);
            }

            return true;
        }
        catch (Exception ex) when (ex is RequestFailedException or IOException or TimeoutException or OperationCanceledException or AuditUnavailableException or AggregateException)
        {
            Log.ResyncFailed(_logger, ex, WriterId);
            _head = null;
            return false;
        }
    }

    /// <summary>The head as stored: last record of the highest non-empty segment, and the highest segment's size.</summary>
    private async Task<ChainHead> ReadTailAsync()
    {
        var segments = new List<long>();
        await foreach (var item in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainPrefix(WriterId), CancellationToken.None).ConfigureAwait(false))
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
            var content = (await _container.GetBlobClient(name).DownloadContentAsync().ConfigureAwait(false)).Value.Content.ToMemory();
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
                Log.TailInvalid(_logger, WriterId, name);
                throw new AuditUnavailableException("The stored audit chain tail is not valid.");
            }

            return new ChainHead(tail.Seq, tail.Hash, last, lastRecords, lastBytes, SegmentExists: true);
        }

        return ChainHead.Empty with { Segment = last, SegmentRecords = lastRecords, SegmentBytes = lastBytes, SegmentExists = true };
    }

    private async Task TryWriteCheckpointAsync(ChainHead head)
    {
        var checkpoint = AuditCheckpoint.Create(WriterId, head.Seq, head.Hash, _time.GetUtcNow(), _checkpointKey);
        var blob = _container.GetBlobClient(AuditBlobNames.Checkpoint(WriterId, head.Seq));
        try
        {
            await blob.UploadAsync(new BinaryData(checkpoint.ToJson()), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }).ConfigureAwait(false);
            _lastCheckpointSeq = head.Seq;
            Log.CheckpointWritten(_logger, WriterId, head.Seq, CheckpointKeyId);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Already there: a retry of our own write whose first attempt landed. Write-once means the first one stands.
            _lastCheckpointSeq = head.Seq;
        }
        catch (Exception ex) when (ex is RequestFailedException or IOException or TimeoutException or OperationCanceledException or AggregateException)
        {
            Log.CheckpointFailed(_logger, ex, WriterId, head.Seq);
        }
    }
}
