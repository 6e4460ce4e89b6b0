using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Checks every writer's chain in an audit container (what <c>ssctl audit verify</c> runs): each record's hash, the
/// seq/prev links between records, and every checkpoint's signature and position. Reports per chain the first failure
/// with its kind and location. Read-only.
/// </summary>
/// <remarks>
/// Classification, walking the chain in storage order with the next expected seq e and previous hash p:
/// a line that is not a record is <see cref="AuditFailureKind.Malformed"/>; a record whose content does not hash to its
/// <c>hash</c> is <see cref="AuditFailureKind.Modified"/>; a record with seq &lt; e is
/// <see cref="AuditFailureKind.Reordered"/>; a record with seq &gt; e is <see cref="AuditFailureKind.Reordered"/> when a
/// record with a seq in [e, seq) or the record its <c>prev</c> names appears later, otherwise
/// <see cref="AuditFailureKind.Deleted"/> (seq e is the first missing one); a record with seq = e whose <c>prev</c> is
/// not p means the previous record was rewritten with a fresh hash (<see cref="AuditFailureKind.Modified"/> naming it).
/// Once the records are sound, checkpoints are checked in seq order: signature by a trusted key
/// (<see cref="AuditFailureKind.BadCheckpointSignature"/>), then that the chain reaches the checkpoint's seq with the
/// checkpoint's hash (<see cref="AuditFailureKind.Truncated"/>). A chain with records and no checkpoint at all is
/// <see cref="AuditFailureKind.Unanchored"/>: the sink checkpoints after a chain's first group, so only deleted
/// checkpoints or a writer stopped in that moment leave one. A tail removed after the last checkpoint cannot be detected;
/// its length is reported (<see cref="AuditChainReport.RecordsAfterLastCheckpoint"/>). A missing container is reported
/// as such (<see cref="AuditVerificationReport.ContainerMissing"/>) and, like a container without records, is not Ok.
/// </remarks>
public static class AuditVerifier
{
    /// <summary>Verifies every chain in <paramref name="container"/>; checkpoints must be signed by one of <paramref name="trustedCheckpointKeys"/>.</summary>
    public static async Task<AuditVerificationReport> VerifyAsync(BlobContainerClient container, IReadOnlyCollection<ECDsa> trustedCheckpointKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(trustedCheckpointKeys);
        if (!await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return new AuditVerificationReport([], ContainerMissing: true);
        }

        var trusted = trustedCheckpointKeys.DistinctBy(KeyIds.Compute, StringComparer.Ordinal).ToDictionary(KeyIds.Compute, StringComparer.Ordinal);
        var chains = new SortedDictionary<string, ChainBlobs>(StringComparer.Ordinal);
        ChainBlobs Chain(string writer) => chains.TryGetValue(writer, out var found) ? found : chains[writer] = new ChainBlobs();

        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseSegment(item.Name, out var writer, out var segment))
            {
                Chain(writer).Segments.Add((segment, item.Name));
            }
            else
            {
                Chain(AuditBlobNames.WriterOf(item.Name, AuditBlobNames.ChainsPrefix)).BadNames.Add(item.Name);
            }
        }

        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.CheckpointsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseCheckpoint(item.Name, out var writer, out var seq))
            {
                Chain(writer).Checkpoints.Add((seq, item.Name));
            }
            else
            {
                Chain(AuditBlobNames.WriterOf(item.Name, AuditBlobNames.CheckpointsPrefix)).BadNames.Add(item.Name);
            }
        }

        var reports = new List<AuditChainReport>(chains.Count);
        foreach (var (writer, blobs) in chains)
        {
            reports.Add(await VerifyChainAsync(container, writer, blobs, trusted, cancellationToken).ConfigureAwait(false));
        }

        return new AuditVerificationReport(reports);
    }

    private static async Task<AuditChainReport> VerifyChainAsync(
        BlobContainerClient container, string writer, ChainBlobs blobs, Dictionary<string, ECDsa> trusted, CancellationToken cancellationToken)
    {
        if (blobs.BadNames.Count > 0)
        {
            var name = blobs.BadNames.Min(StringComparer.Ordinal)!;
            return new AuditChainReport(writer, 0, 0, 0, new AuditFailure(AuditFailureKind.Malformed, null, name, null, "blob name is not in the audit layout"));
        }

        var entries = new List<Entry>();
        blobs.Segments.Sort();
        foreach (var (_, name) in blobs.Segments)
        {
            var content = (await container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            var lines = AuditLines.Split(content.Span);
            for (var i = 0; i < lines.Count; i++)
            {
                var (start, length) = lines[i];
                AuditRecord.TryParse(content.Span.Slice(start, length), out var record, out var error);
                entries.Add(new Entry(record, error, record is not null && string.Equals(record.ComputeHash(), record.Hash, StringComparison.Ordinal), name, i + 1));
            }
        }

        var (failure, checkedCount) = WalkChain(writer, entries);
        if (failure is not null)
        {
            return new AuditChainReport(writer, checkedCount, checkedCount, 0, failure);
        }

        var lastSeq = (long)entries.Count;
        var checkpointsChecked = 0;
        blobs.Checkpoints.Sort();
        foreach (var (seq, name) in blobs.Checkpoints)
        {
            var content = (await container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            failure = CheckCheckpoint(writer, seq, name, content.Span, entries, trusted);
            if (failure is not null)
            {
                return new AuditChainReport(writer, entries.Count, lastSeq, checkpointsChecked, failure);
            }

            checkpointsChecked++;
        }

        var lastCheckpointSeq = blobs.Checkpoints.Count == 0 ? 0 : blobs.Checkpoints[^1].Seq;
        if (entries.Count > 0 && checkpointsChecked == 0)
        {
            failure = new AuditFailure(
                AuditFailureKind.Unanchored, null, null, null,
                $"{entries.Count} record(s) and no signed checkpoint under {AuditBlobNames.CheckpointPrefix(writer)}: a cut or rewrite of this chain would go unnoticed");
        }

        return new AuditChainReport(writer, entries.Count, lastSeq, checkpointsChecked, failure, lastCheckpointSeq);
    }

    /// <summary>The first failure in storage order and how many records were sound before it.</summary>
    private static (AuditFailure? Failure, long Checked) WalkChain(string writer, List<Entry> entries)
    {
        var expectedSeq = 1L;
        var expectedPrev = AuditRecord.GenesisHash;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var checkedCount = expectedSeq - 1;
            if (entry.Record is not { } record)
            {
                return (new AuditFailure(AuditFailureKind.Malformed, null, entry.Blob, entry.Line, entry.Error ?? "not an audit record"), checkedCount);
            }

            if (!entry.HashValid)
            {
                return (new AuditFailure(AuditFailureKind.Modified, record.Seq, entry.Blob, entry.Line, "record content does not match its hash"), checkedCount);
            }

            if (!string.Equals(record.WriterId, writer, StringComparison.Ordinal))
            {
                return (new AuditFailure(AuditFailureKind.Modified, record.Seq, entry.Blob, entry.Line, "record belongs to another writer's chain"), checkedCount);
            }

            if (record.Seq == expectedSeq && string.Equals(record.Prev, expectedPrev, StringComparison.Ordinal))
            {
                expectedSeq++;
                expectedPrev = record.Hash;
                continue;
            }

            if (record.Seq < expectedSeq)
            {
                return (new AuditFailure(AuditFailureKind.Reordered, record.Seq, entry.Blob, entry.Line, $"seq {record.Seq} follows seq {expectedSeq - 1}"), checkedCount);
            }

            if (LaterEntryFills(entries, i, expectedSeq, record))
            {
                return (new AuditFailure(AuditFailureKind.Reordered, record.Seq, entry.Blob, entry.Line, $"seq {record.Seq} comes before seq {expectedSeq}"), checkedCount);
            }

            if (record.Seq > expectedSeq && !string.Equals(record.Prev, expectedPrev, StringComparison.Ordinal))
            {
                var missing = record.Seq - 1 == expectedSeq ? $"seq {expectedSeq} is" : $"seq {expectedSeq}-{record.Seq - 1} are";
                return (new AuditFailure(AuditFailureKind.Deleted, expectedSeq, entry.Blob, entry.Line, $"{missing} missing before this record"), checkedCount);
            }

            if (record.Seq > expectedSeq)
            {
                return (new AuditFailure(AuditFailureKind.Modified, record.Seq, entry.Blob, entry.Line, $"seq {record.Seq} links directly to seq {expectedSeq - 1}: the record was renumbered"), checkedCount);
            }

            // Same seq, different prev: the previous record was rewritten with a recomputed hash (or this one's link was).
            if (i == 0)
            {
                return (new AuditFailure(AuditFailureKind.Modified, record.Seq, entry.Blob, entry.Line, "the first record does not start from the genesis hash"), checkedCount);
            }

            var previous = entries[i - 1];
            return (new AuditFailure(AuditFailureKind.Modified, expectedSeq - 1, previous.Blob, previous.Line, $"hash of seq {expectedSeq - 1} is not the prev of seq {record.Seq}: it was rewritten"), checkedCount - 1);
        }

        return (null, expectedSeq - 1);
    }

    /// <summary>True when a record after position <paramref name="index"/> has a seq in [expected, record.Seq) or is the record's prev.</summary>
    private static bool LaterEntryFills(List<Entry> entries, int index, long expectedSeq, AuditRecord record)
    {
        for (var j = index + 1; j < entries.Count; j++)
        {
            if (entries[j].Record is { } later
                && ((later.Seq >= expectedSeq && later.Seq < record.Seq) || string.Equals(later.Hash, record.Prev, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private static AuditFailure? CheckCheckpoint(string writer, long seq, string name, ReadOnlySpan<byte> content, List<Entry> entries, Dictionary<string, ECDsa> trusted)
    {
        if (!AuditCheckpoint.TryParse(content, out var checkpoint) || checkpoint is null)
        {
            return new AuditFailure(AuditFailureKind.Malformed, seq, name, null, "checkpoint is not in the audit format");
        }

        if (!trusted.TryGetValue(checkpoint.KeyId, out var key) || !checkpoint.VerifySignature(key))
        {
            return new AuditFailure(AuditFailureKind.BadCheckpointSignature, checkpoint.Seq, name, null, "checkpoint is not validly signed by a trusted key");
        }

        if (!string.Equals(checkpoint.WriterId, writer, StringComparison.Ordinal) || checkpoint.Seq != seq)
        {
            return new AuditFailure(AuditFailureKind.Malformed, checkpoint.Seq, name, null, "checkpoint content does not match its blob name");
        }

        // The walk succeeded, so entry i holds seq i + 1.
        if (checkpoint.Seq > entries.Count)
        {
            return new AuditFailure(AuditFailureKind.Truncated, entries.Count + 1, name, null, $"checkpoint signs seq {checkpoint.Seq} but the chain ends at seq {entries.Count}");
        }

        if (checkpoint.Seq < 1 || !string.Equals(entries[(int)(checkpoint.Seq - 1)].Record!.Hash, checkpoint.Hash, StringComparison.Ordinal))
        {
            return new AuditFailure(AuditFailureKind.Truncated, checkpoint.Seq, name, null, $"the record at seq {checkpoint.Seq} is not the one the checkpoint signed: the chain was cut and rewritten");
        }

        return null;
    }

    private sealed class ChainBlobs
    {
        public List<(long Segment, string Name)> Segments { get; } = [];

        public List<(long Seq, string Name)> Checkpoints { get; } = [];

        public List<string> BadNames { get; } = [];
    }

    private sealed record Entry(AuditRecord? Record, string? Error, bool HashValid, string Blob, int Line);
}
