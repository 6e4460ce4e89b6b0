using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Inclusion proofs for committed records (<see cref="AuditInclusionProof"/>): from the stored chain and the latest tree
/// head that covers the record. Read-only. Keeps, per writer, the Merkle tree of the records read so far and reads only
/// what was appended since (the chains are append-only), so a proof costs the new bytes and O(log n) hashes.
/// </summary>
/// <param name="container">The audit container.</param>
/// <param name="checkpointKey">
/// The checkpoint key's public half: a stored head is used only when it verifies under it, so a head planted in storage
/// with the right root and a wrong signature does not become the head every proof of its writer names (each would then
/// fail offline; found in review 2026-12-07). Null: heads are not checked (tools reading a log without its key).
/// </param>
public sealed class AuditProofs(BlobContainerClient container, ECDsa? checkpointKey = null)
{
    private const int MaxCachedWriters = 8;

    private readonly Dictionary<string, ChainCache> _chains = new(StringComparer.Ordinal);

    // A writer's first read (not cached, or evicted: at most 8 are kept) reads its whole chain; one at a time, so proof
    // requests naming many writers cost the instance one chain's read at once, not one per request.
    private readonly SemaphoreSlim _firstReads = new(1, 1);

    /// <summary>
    /// The proof of record <paramref name="seq"/> of <paramref name="writerId"/> against the latest stored tree head that
    /// covers it and matches the records; null when there is no such record or no tree head covers it yet.
    /// </summary>
    public async Task<AuditInclusionProof?> ProveAsync(string writerId, long seq, CancellationToken cancellationToken) =>
        (await ProveRecordAsync(writerId, seq, cancellationToken).ConfigureAwait(false))?.Proof;

    /// <summary>
    /// Record <paramref name="seq"/> of <paramref name="writerId"/>: whose it is (request id, caller pseudonym) and its
    /// proof (null until a tree head covers it); null when the writer's sound chain has no such record.
    /// </summary>
    public async Task<AuditProvenRecord?> ProveRecordAsync(string writerId, long seq, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writerId);
        if (!AuditOptions.IsValidWriterId(writerId) || seq < 1)
        {
            return null;
        }

        var chain = CacheOf(writerId);
        await chain.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (seq > chain.Tree.Size)
            {
                await ReadNewAsync(chain, writerId, cancellationToken).ConfigureAwait(false);
            }

            if (seq > chain.Tree.Size)
            {
                return null;
            }

            var index = (int)(seq - 1);
            var subject = new AuditProvenRecord(chain.RequestIds[index], chain.Callers[index], Convert.ToHexStringLower(chain.Tree.Leaf(index)), null);
            var heads = new List<long>();
            await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.CheckpointPrefix(writerId), cancellationToken).ConfigureAwait(false))
            {
                if (AuditBlobNames.TryParseCheckpoint(item.Name, out var writer, out var size) && string.Equals(writer, writerId, StringComparison.Ordinal) && size >= seq)
                {
                    heads.Add(size);
                }
            }

            if (heads.Count > 0 && heads.Max() > chain.Tree.Size)
            {
                await ReadNewAsync(chain, writerId, cancellationToken).ConfigureAwait(false);
            }

            foreach (var size in heads.Where(size => size <= chain.Tree.Size).OrderDescending())
            {
                var content = (await container.GetBlobClient(AuditBlobNames.Checkpoint(writerId, size)).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray();
                if (AuditCheckpoint.TryParse(content, out var head) && head!.IsTreeHead && head.Seq == size
                    && string.Equals(head.Root, Convert.ToHexStringLower(chain.Tree.Root(size)), StringComparison.Ordinal)
                    && (checkpointKey is null || head.VerifySignature(checkpointKey)))
                {
                    var path = chain.Tree.InclusionProof(seq - 1, size).Select(Convert.ToHexStringLower).ToList();
                    return subject with { Proof = new AuditInclusionProof(writerId, seq, subject.LeafHash, size, path, Encoding.ASCII.GetString(head.ToJson())) };
                }
            }

            return subject;
        }
        finally
        {
            chain.Lock.Release();
        }
    }

    /// <summary>
    /// The record of <paramref name="requestId"/>, an id that carries its writer's tag (<see cref="AuditRequestIds"/>):
    /// found in the chain of a writer of this container whose tag matches (read as far as needed, then kept), with its
    /// proof (null until a head covers it); null when no such writer's chain holds it.
    /// </summary>
    public async Task<AuditProvenRecord?> ProveTaggedRequestAsync(string requestId, CancellationToken cancellationToken)
    {
        if (!AuditRequestIds.TryTag(requestId, out var tag))
        {
            return null;
        }

        await foreach (var item in container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", AuditBlobNames.ChainsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (!item.IsPrefix || item.Prefix.Length <= AuditBlobNames.ChainsPrefix.Length + 1)
            {
                continue;
            }

            var writer = item.Prefix[AuditBlobNames.ChainsPrefix.Length..^1];
            if (!AuditOptions.IsValidWriterId(writer) || !string.Equals(AuditRequestIds.Tag(writer), tag, StringComparison.Ordinal))
            {
                continue;
            }

            var chain = CacheOf(writer);
            long seq;
            await chain.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!chain.TrySeqOf(requestId, out seq))
                {
                    await ReadNewAsync(chain, writer, cancellationToken).ConfigureAwait(false);
                    if (!chain.TrySeqOf(requestId, out seq))
                    {
                        continue;
                    }
                }
            }
            finally
            {
                chain.Lock.Release();
            }

            return await ProveRecordAsync(writer, seq, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>
    /// The record with request id <paramref name="requestId"/> (any writer) and its proof (null until a head covers it);
    /// null when there is no such record. Scans every chain: for offline tools, not for a serving path.
    /// </summary>
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

            if (RecordOf(content.Span, requestId) is { } record)
            {
                return (record, await ProveAsync(record.WriterId, record.Seq, cancellationToken).ConfigureAwait(false));
            }
        }

        return null;
    }

    // The first record of requestId in a segment's content; null when none.
    private static AuditRecord? RecordOf(ReadOnlySpan<byte> content, string requestId)
    {
        foreach (var (start, length) in AuditLines.Split(content))
        {
            if (AuditRecord.TryParse(content.Slice(start, length), out var record, out _) && string.Equals(record!.RequestId, requestId, StringComparison.Ordinal))
            {
                return record;
            }
        }

        return null;
    }

    private async Task ReadNewAsync(ChainCache chain, string writerId, CancellationToken cancellationToken)
    {
        if (chain.Tree.Size > 0)
        {
            await chain.ReadNewAsync(container, writerId, cancellationToken).ConfigureAwait(false);
            return;
        }

        await _firstReads.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await chain.ReadNewAsync(container, writerId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _firstReads.Release();
        }
    }

    private ChainCache CacheOf(string writerId)
    {
        lock (_chains)
        {
            if (!_chains.TryGetValue(writerId, out var chain))
            {
                if (_chains.Count >= MaxCachedWriters)
                {
                    _chains.Remove(_chains.MinBy(static pair => pair.Value.LastUsed).Key);
                }

                chain = new ChainCache();
                _chains[writerId] = chain;
            }

            chain.LastUsed = Environment.TickCount64;
            return chain;
        }
    }

    /// <summary>What has been read of one writer's chain: its sound prefix, as leaves, request ids and callers.</summary>
    private sealed class ChainCache
    {
        private readonly Dictionary<string, string> _callers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _seqByRequest = new(StringComparer.Ordinal);
        private long _segment;
        private long _offset;
        private string _prev = AuditRecord.GenesisHash;
        private bool _broken;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        public long LastUsed { get; set; }

        public MerkleTree Tree { get; } = new();

        public List<string> RequestIds { get; } = [];

        public List<string> Callers { get; } = [];

        /// <summary>The seq of the record of <paramref name="requestId"/> among those read (its first, should two share it).</summary>
        public bool TrySeqOf(string requestId, out long seq) => _seqByRequest.TryGetValue(requestId, out seq);

        /// <summary>Reads what was appended since the last read; stops for good at the first line that is not the next sound record.</summary>
        public async Task ReadNewAsync(BlobContainerClient container, string writerId, CancellationToken cancellationToken)
        {
            if (_broken)
            {
                return;
            }

            var segments = new SortedDictionary<long, long>();
            await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainPrefix(writerId), cancellationToken).ConfigureAwait(false))
            {
                if (AuditBlobNames.TryParseSegment(item.Name, out var writer, out var segment) && string.Equals(writer, writerId, StringComparison.Ordinal) && segment >= _segment)
                {
                    segments[segment] = item.Properties.ContentLength ?? 0;
                }
            }

            foreach (var (segment, length) in segments)
            {
                if (segment != _segment)
                {
                    _segment = segment;
                    _offset = 0;
                }

                if (length <= _offset)
                {
                    continue;
                }

                BinaryData content;
                try
                {
                    var options = new BlobDownloadOptions { Range = new HttpRange(_offset) };
                    content = (await container.GetBlobClient(AuditBlobNames.Segment(writerId, segment)).DownloadContentAsync(options, cancellationToken).ConfigureAwait(false)).Value.Content;
                }
                catch (RequestFailedException ex) when (ex.Status == 416)
                {
                    continue;
                }

                var span = content.ToMemory().Span;
                var consumed = 0;
                while (consumed < span.Length)
                {
                    var end = span[consumed..].IndexOf((byte)'\n');
                    if (end < 0)
                    {
                        break; // Not a whole line: committed appends always end in a newline.
                    }

                    var line = span.Slice(consumed, end);
                    if (!AuditRecord.TryParse(line, out var record, out _)
                        || record!.Seq != Tree.Size + 1
                        || !string.Equals(record.Prev, _prev, StringComparison.Ordinal)
                        || !string.Equals(record.ComputeHash(), record.Hash, StringComparison.Ordinal))
                    {
                        _broken = true;
                        return;
                    }

                    var leaf = MerkleHash.Leaf(record.CanonicalBytes());
                    Tree.Append(leaf);
                    RequestIds.Add(record.RequestId);
                    _seqByRequest.TryAdd(record.RequestId, record.Seq);
                    Callers.Add(_callers.TryGetValue(record.Caller, out var caller) ? caller : _callers[record.Caller] = record.Caller);
                    _prev = record.Hash;
                    consumed += end + 1;
                }

                _offset += consumed;
            }
        }
    }
}
