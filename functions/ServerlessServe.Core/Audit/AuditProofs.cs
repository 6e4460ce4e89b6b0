using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Inclusion proofs for committed records (<see cref="AuditInclusionProof"/>): from the stored chain and the latest tree
/// head that covers the record. Read-only. Reads the writer's whole chain (O(n)); a serving path would keep the tree.
/// </summary>
public sealed class AuditProofs(BlobContainerClient container)
{
    /// <summary>
    /// The proof of record <paramref name="seq"/> of <paramref name="writerId"/> against the latest stored tree head that
    /// covers it and matches the records; null when there is no such record or no tree head covers it yet.
    /// </summary>
    public async Task<AuditInclusionProof?> ProveAsync(string writerId, long seq, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writerId);
        var records = await ReadChainAsync(writerId, cancellationToken).ConfigureAwait(false);
        if (seq < 1 || seq > records.Count)
        {
            return null;
        }

        var leaves = records.Select(static r => MerkleHash.Leaf(r.CanonicalBytes())).ToList();
        var heads = new List<long>();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.CheckpointPrefix(writerId), cancellationToken).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseCheckpoint(item.Name, out var writer, out var size) && string.Equals(writer, writerId, StringComparison.Ordinal) && size >= seq && size <= records.Count)
            {
                heads.Add(size);
            }
        }

        var tree = new MerkleTree(leaves);
        foreach (var size in heads.OrderDescending())
        {
            var content = (await container.GetBlobClient(AuditBlobNames.Checkpoint(writerId, size)).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray();
            if (AuditCheckpoint.TryParse(content, out var head) && head!.IsTreeHead && head.Seq == size
                && string.Equals(head.Root, Convert.ToHexStringLower(tree.Root(size)), StringComparison.Ordinal))
            {
                var path = tree.InclusionProof(seq - 1, size).Select(Convert.ToHexStringLower).ToList();
                return new AuditInclusionProof(writerId, seq, Convert.ToHexStringLower(leaves[(int)(seq - 1)]), size, path, Encoding.ASCII.GetString(head.ToJson()));
            }
        }

        return null;
    }

    /// <summary>The record with request id <paramref name="requestId"/> (any writer) and its proof (null until a head covers it); null when there is no such record.</summary>
    public async Task<(AuditRecord Record, AuditInclusionProof? Proof)?> ProveRequestAsync(string requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        var needle = Encoding.UTF8.GetBytes("\"requestId\":" + JsonSerializer.Serialize(requestId) + ",");
        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!AuditBlobNames.TryParseSegment(item.Name, out _, out _))
            {
                continue;
            }

            var content = (await container.GetBlobClient(item.Name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            if (content.Span.IndexOf(needle) < 0)
            {
                continue;
            }

            foreach (var (start, length) in AuditLines.Split(content.Span))
            {
                if (AuditRecord.TryParse(content.Span.Slice(start, length), out var record, out _) && string.Equals(record!.RequestId, requestId, StringComparison.Ordinal))
                {
                    return (record, await ProveAsync(record.WriterId, record.Seq, cancellationToken).ConfigureAwait(false));
                }
            }
        }

        return null;
    }

    /// <summary>The writer's records in order; stops at the first line that is not the next sound record (the verifier reports it).</summary>
    private async Task<List<AuditRecord>> ReadChainAsync(string writerId, CancellationToken cancellationToken)
    {
        var segments = new List<long>();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainPrefix(writerId), cancellationToken).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseSegment(item.Name, out var writer, out var segment) && string.Equals(writer, writerId, StringComparison.Ordinal))
            {
                segments.Add(segment);
            }
        }

        segments.Sort();
        var records = new List<AuditRecord>();
        var prev = AuditRecord.GenesisHash;
        foreach (var segment in segments)
        {
            var content = (await container.GetBlobClient(AuditBlobNames.Segment(writerId, segment)).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            foreach (var (start, length) in AuditLines.Split(content.Span))
            {
                if (!AuditRecord.TryParse(content.Span.Slice(start, length), out var record, out _)
                    || record!.Seq != records.Count + 1
                    || !string.Equals(record.Prev, prev, StringComparison.Ordinal)
                    || !string.Equals(record.ComputeHash(), record.Hash, StringComparison.Ordinal))
                {
                    return records;
                }

                records.Add(record);
                prev = record.Hash;
            }
        }

        return records;
    }
}
