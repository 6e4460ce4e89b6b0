using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Reads an audit container for operators (the admin plane): the security records of every writer's chain, newest
/// first, and the stored checkpoints. Read-only; it parses records strictly but proves nothing about the chain — that is
/// <see cref="AuditVerifier"/>'s job. Reading scans segments newest first and stops once it has enough, so its cost grows
/// with how far back it must look, not with the whole log.
/// </summary>
public sealed class AuditReader(BlobContainerClient container, TimeProvider? time = null)
{
    /// <summary>How far ahead of this clock a record's time may be and still be listed.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Up to <paramref name="limit"/> records of operation <c>security</c> at or after <paramref name="since"/>, newest
    /// first, from every writer's chain. Lines that do not parse are skipped (the verifier reports them), and so are
    /// records that do not hash to their <c>hash</c>, sit in another writer's chain, or are dated in the future (a
    /// planted run of far-future records would otherwise fill the list and push every real one off it), and segments
    /// larger than a writer writes (never downloaded).
    /// </summary>
    public async Task<IReadOnlyList<AuditRecord>> SecurityRecordsAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var segments = new List<(string Writer, long Segment, string Name)>();
        if (!await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseSegment(item.Name, out var writer, out var segment)
                && item.Properties.ContentLength <= AuditOptions.MaxSegmentBytesAllowed
                && (since is not { } from || item.Properties.LastModified is not { } modified || modified >= from))
            {
                segments.Add((writer, segment, item.Name));
            }
        }

        var latest = (time ?? TimeProvider.System).GetUtcNow() + ClockSkew;
        var found = new List<AuditRecord>();
        foreach (var writer in segments.GroupBy(s => s.Writer, StringComparer.Ordinal))
        {
            var fromWriter = 0;
            foreach (var (_, _, name) in writer.OrderByDescending(s => s.Segment))
            {
                var content = (await container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
                foreach (var (start, length) in AuditLines.Reverse(content.Span))
                {
                    if (fromWriter >= limit)
                    {
                        break;
                    }

                    if (AuditRecord.TryParse(content.Span.Slice(start, length), out var record, out _)
                        && record!.Operation == AuditEvent.SecurityOperation
                        && string.Equals(record.WriterId, writer.Key, StringComparison.Ordinal)
                        && record.Time <= latest
                        && string.Equals(record.ComputeHash(), record.Hash, StringComparison.Ordinal)
                        && (since is not { } from || record.Time >= from))
                    {
                        found.Add(record);
                        fromWriter++;
                    }
                }

                if (fromWriter >= limit)
                {
                    break;
                }
            }
        }

        return found.OrderByDescending(r => r.Time).ThenBy(r => r.WriterId, StringComparer.Ordinal).ThenByDescending(r => r.Seq).Take(limit).ToList();
    }

    /// <summary>
    /// The latest <paramref name="perWriter"/> checkpoints of each writer, newest first; each signature checked against
    /// <paramref name="trustedKeys"/> when any are given. Unparseable checkpoint blobs are skipped (the verifier reports them).
    /// </summary>
    public async Task<IReadOnlyList<AuditCheckpointInfo>> CheckpointsAsync(int perWriter, IReadOnlyCollection<ECDsa> trustedKeys, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perWriter, 1);
        ArgumentNullException.ThrowIfNull(trustedKeys);
        if (!await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        var names = new List<(string Writer, long Seq, string Name)>();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.CheckpointsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseCheckpoint(item.Name, out var writer, out var seq) && item.Properties.ContentLength <= AuditVerificationOptions.MaxHeadBytes)
            {
                names.Add((writer, seq, item.Name));
            }
        }

        // The same key listed twice (the current checkpoint key also among the trusted PEMs) is one key, not an error.
        var keys = trustedKeys.DistinctBy(KeyIds.Compute, StringComparer.Ordinal).ToDictionary(KeyIds.Compute, StringComparer.Ordinal);
        var result = new List<AuditCheckpointInfo>();
        foreach (var writer in names.GroupBy(n => n.Writer, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            // Taken after parsing: a few junk blobs with high seqs in their names must not hide the writer's real heads.
            var taken = 0;
            foreach (var (_, _, name) in writer.OrderByDescending(n => n.Seq))
            {
                if (taken >= perWriter)
                {
                    break;
                }

                BinaryData content;
                try
                {
                    content = (await container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    continue;
                }

                if (AuditCheckpoint.TryParse(content.ToMemory().Span, out var checkpoint))
                {
                    bool? valid = keys.Count == 0 ? null : keys.TryGetValue(checkpoint!.KeyId, out var key) && checkpoint.VerifySignature(key);
                    result.Add(new AuditCheckpointInfo(checkpoint!.WriterId, checkpoint.Seq, checkpoint.Hash, checkpoint.Time, checkpoint.KeyId, checkpoint.Signature, valid));
                    taken++;
                }
            }
        }

        return result;
    }
}
