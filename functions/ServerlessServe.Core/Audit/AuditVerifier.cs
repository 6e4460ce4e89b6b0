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
/// Once the records are sound, checkpoints and signed tree heads are checked in seq order: signature by a trusted key
/// (<see cref="AuditFailureKind.BadCheckpointSignature"/>), that the chain reaches the head's seq
/// (<see cref="AuditFailureKind.Truncated"/>), for a tree head that its root is the Merkle root of records 1..seq
/// (<see cref="AuditFailureKind.Inconsistent"/>), then the record hash (<see cref="AuditFailureKind.Truncated"/>), that its
/// <c>prevHead</c> names the previous head (<see cref="AuditFailureKind.HeadMissing"/>) and the RFC 9162 consistency
/// proof from the previous tree head (<see cref="AuditFailureKind.Inconsistent"/>). A chain with records and no
/// checkpoint at all is <see cref="AuditFailureKind.Unanchored"/>; one with more records after its latest head than
/// <see cref="AuditVerificationOptions.MaxUnanchoredRecords"/> is <see cref="AuditFailureKind.UnanchoredTail"/>. With a
/// witness, every witness head must be countersigned by a trusted witness key and signed by a trusted log key, must not
/// be beyond the log's latest head (<see cref="AuditFailureKind.WitnessAhead"/>) and must match the records
/// (<see cref="AuditFailureKind.WitnessMismatch"/>); the log's latest head must reach the witness within
/// <see cref="AuditVerificationOptions.WitnessLag"/> (<see cref="AuditFailureKind.Unwitnessed"/>). The witness is read
/// before the log, so a head written meanwhile cannot look like the witness being ahead. A missing container is
/// reported as such (<see cref="AuditVerificationReport.ContainerMissing"/>) and, like a container without records, is
/// not Ok.
/// </remarks>
public static class AuditVerifier
{
    /// <summary>Verifies every chain in <paramref name="container"/>; checkpoints must be signed by one of <paramref name="trustedCheckpointKeys"/>. No witness check.</summary>
    public static Task<AuditVerificationReport> VerifyAsync(BlobContainerClient container, IReadOnlyCollection<ECDsa> trustedCheckpointKeys, CancellationToken cancellationToken) =>
        VerifyAsync(container, new AuditVerificationOptions { TrustedCheckpointKeys = trustedCheckpointKeys ?? throw new ArgumentNullException(nameof(trustedCheckpointKeys)) }, cancellationToken);

    /// <summary>Verifies every chain in <paramref name="container"/> as <paramref name="options"/> say, against the witness when one is given.</summary>
    public static async Task<AuditVerificationReport> VerifyAsync(BlobContainerClient container, AuditVerificationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.TrustedCheckpointKeys);

        // The witness first: it only ever receives a head after the log has it. One asked for that does not exist is a
        // failure, not an empty witness: a wrong --witness-blob-uri must not read as "heads match the witness".
        var witnessMissing = options.Witness is not null && !await options.Witness.ExistsAsync(cancellationToken).ConfigureAwait(false);
        var witness = options.Witness is null ? null : await ReadWitnessAsync(options.Witness, cancellationToken).ConfigureAwait(false);
        if (!await container.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return new AuditVerificationReport(witness is null ? [] : WitnessOnly(witness, []), ContainerMissing: true, WitnessMissing: witnessMissing);
        }

        var trusted = options.TrustedCheckpointKeys.DistinctBy(KeyIds.Compute, StringComparer.Ordinal).ToDictionary(KeyIds.Compute, StringComparer.Ordinal);
        var chains = new SortedDictionary<string, ChainBlobs>(StringComparer.Ordinal);
        ChainBlobs Chain(string writer) => chains.TryGetValue(writer, out var found) ? found : chains[writer] = new ChainBlobs();

        // Heads before segments, for the witness's reason: a writer writes a head only over records it has, and records
        // only grow, so every head listed first is covered by the segments listed after it. Listed the other way, a
        // writer that started (or began a segment) and wrote a head between the two listings read as truncated on a
        // healthy log (found in review 2026-12-07).
        async Task ListHeadsAsync(string prefix)
        {
            await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
            {
                if (AuditBlobNames.TryParseCheckpoint(item.Name, out var writer, out var seq))
                {
                    // A writer's heads listed a second time: each name once.
                    if (item.Properties.ContentLength > AuditVerificationOptions.MaxHeadBytes)
                    {
                        AddOnce(Chain(writer).Oversized, item.Name);
                    }
                    else
                    {
                        Chain(writer).Checkpoints.Add((seq, item.Name));
                    }
                }
                else
                {
                    AddOnce(Chain(AuditBlobNames.WriterOf(item.Name, AuditBlobNames.CheckpointsPrefix)).BadNames, item.Name);
                }
            }
        }

        static void AddOnce(List<string> names, string name)
        {
            if (!names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        await ListHeadsAsync(AuditBlobNames.CheckpointsPrefix).ConfigureAwait(false);

        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (AuditBlobNames.TryParseSegment(item.Name, out var writer, out var segment))
            {
                if (item.Properties.ContentLength > options.MaxSegmentBytes)
                {
                    Chain(writer).Oversized.Add(item.Name);
                }
                else
                {
                    Chain(writer).Segments.Add((segment, item.Name));
                }
            }
            else
            {
                Chain(AuditBlobNames.WriterOf(item.Name, AuditBlobNames.ChainsPrefix)).BadNames.Add(item.Name);
            }
        }

        // A writer that started between the two listings has records and no head listed yet: its heads are listed once
        // more (a writer's first head follows its first group), so a healthy new writer does not read as unanchored.
        foreach (var writer in chains.Where(static c => c.Value.Segments.Count > 0 && c.Value.Checkpoints.Count == 0).Select(static c => c.Key).ToList())
        {
            await ListHeadsAsync(AuditBlobNames.CheckpointPrefix(writer)).ConfigureAwait(false);
        }

        var reports = new List<AuditChainReport>(chains.Count);
        foreach (var (writer, blobs) in chains)
        {
            var witnessHeads = witness is null ? null : witness.TryGetValue(writer, out var heads) ? heads : [];
            reports.Add(await VerifyChainAsync(container, writer, blobs, trusted, witnessHeads, options, cancellationToken).ConfigureAwait(false));
        }

        if (witness is not null)
        {
            reports.AddRange(WitnessOnly(witness, chains.Keys));
        }

        return new AuditVerificationReport(reports, WitnessMissing: witnessMissing);
    }

    /// <summary>Writers the witness has heads of but the log has no chain for: the whole chain was deleted.</summary>
    private static List<AuditChainReport> WitnessOnly(Dictionary<string, List<WitnessEntry>> witness, IEnumerable<string> logWriters)
    {
        var known = logWriters.ToHashSet(StringComparer.Ordinal);
        return witness.Where(w => !known.Contains(w.Key) && w.Value.Count > 0).OrderBy(w => w.Key, StringComparer.Ordinal).Select(w =>
        {
            if (w.Value.FirstOrDefault(e => e.Head is null) is { } unreadable)
            {
                // A blob whose name or content is not a witness head: that, not a deleted chain "up to tree size 2^63".
                return new AuditChainReport(w.Key, 0, 0, 0, new AuditFailure(
                    AuditFailureKind.Malformed, null, unreadable.Blob, null, "witness blob is not a witness head in the audit layout"), 0, null);
            }

            var latest = w.Value[^1];
            return new AuditChainReport(w.Key, 0, 0, 0, new AuditFailure(
                AuditFailureKind.WitnessAhead, latest.TreeSize, latest.Blob, null,
                $"the witness holds heads of this writer up to tree size {latest.TreeSize} but the log has no chain for it: the chain was deleted"), 0, latest.TreeSize);
        }).ToList();
    }

    private static async Task<Dictionary<string, List<WitnessEntry>>> ReadWitnessAsync(BlobContainerClient witness, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, List<WitnessEntry>>(StringComparer.Ordinal);
        if (!await witness.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return result;
        }

        await foreach (var item in witness.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.WitnessHeadsPrefix, cancellationToken).ConfigureAwait(false))
        {
            var name = witness.Name + "/" + item.Name;
            if (!AuditBlobNames.TryParseWitnessHead(item.Name, out var writer, out var treeSize))
            {
                writer = AuditBlobNames.WriterOf(item.Name, AuditBlobNames.WitnessHeadsPrefix);
                Add(writer, new WitnessEntry(long.MaxValue, name, null));
                continue;
            }

            AuditWitnessHead? head = null;
            if (item.Properties.ContentLength <= AuditVerificationOptions.MaxHeadBytes)
            {
                var content = (await witness.GetBlobClient(item.Name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
                AuditWitnessHead.TryParse(content.Span, out head);
            }

            Add(writer, new WitnessEntry(treeSize, name, head));
        }

        foreach (var heads in result.Values)
        {
            heads.Sort(static (a, b) => a.TreeSize.CompareTo(b.TreeSize));
        }

        return result;

        void Add(string writer, WitnessEntry entry)
        {
            if (!result.TryGetValue(writer, out var list))
            {
                result[writer] = list = [];
            }

            list.Add(entry);
        }
    }

    private static async Task<AuditChainReport> VerifyChainAsync(
        BlobContainerClient container,
        string writer,
        ChainBlobs blobs,
        Dictionary<string, ECDsa> trusted,
        List<WitnessEntry>? witnessHeads,
        AuditVerificationOptions options,
        CancellationToken cancellationToken)
    {
        var witnessedSeq = witnessHeads is null ? (long?)null : witnessHeads.Count == 0 ? 0 : witnessHeads[^1].TreeSize;
        if (blobs.BadNames.Count > 0)
        {
            var name = blobs.BadNames.Min(StringComparer.Ordinal)!;
            return new AuditChainReport(writer, 0, 0, 0, new AuditFailure(AuditFailureKind.Malformed, null, name, null, "blob name is not in the audit layout"), 0, witnessedSeq);
        }

        if (blobs.Oversized.Count > 0)
        {
            var name = blobs.Oversized.Min(StringComparer.Ordinal)!;
            return new AuditChainReport(writer, 0, 0, 0, new AuditFailure(AuditFailureKind.Malformed, null, name, null, "blob is larger than any the audit writer writes; not read"), 0, witnessedSeq);
        }

        var entries = new List<Entry>();
        blobs.Segments.Sort();
        foreach (var (_, name) in blobs.Segments)
        {
            var content = (await container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            var line = 0;
            foreach (var (start, length) in AuditLines.Split(content.Span))
            {
                line++;
                AuditRecord.TryParse(content.Span.Slice(start, length), out var record, out var error);
                entries.Add(Entry.Of(record, error, writer, name, line));
                if (record is null)
                {
                    // The walk fails at this line or before it: what follows cannot change that, and a segment of
                    // millions of junk lines must not become millions of entries.
                    return Walked(writer, entries, witnessedSeq);
                }
            }
        }

        var (failure, checkedCount) = WalkChain(writer, entries);
        if (failure is not null)
        {
            return new AuditChainReport(writer, checkedCount, checkedCount, 0, failure, 0, witnessedSeq);
        }

        var lastSeq = (long)entries.Count;
        var heads = new HeadWalk(entries);
        blobs.Checkpoints.Sort();
        foreach (var (seq, name) in blobs.Checkpoints)
        {
            var content = (await container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            failure = CheckCheckpoint(writer, seq, name, content.Span, heads, trusted);
            if (failure is not null)
            {
                return new AuditChainReport(writer, entries.Count, lastSeq, heads.Checked, failure, 0, witnessedSeq);
            }
        }

        var lastCheckpointSeq = heads.Latest?.Seq ?? 0;
        if (entries.Count > 0 && heads.Checked == 0)
        {
            failure = new AuditFailure(
                AuditFailureKind.Unanchored, null, null, null,
                $"{entries.Count} record(s) and no signed checkpoint under {AuditBlobNames.CheckpointPrefix(writer)}: a cut or rewrite of this chain would go unnoticed");
        }
        else if (lastSeq - lastCheckpointSeq > options.MaxUnanchoredRecords)
        {
            failure = new AuditFailure(
                AuditFailureKind.UnanchoredTail, lastCheckpointSeq + 1, AuditBlobNames.Checkpoint(writer, lastCheckpointSeq), null,
                $"{lastSeq - lastCheckpointSeq} record(s) follow the latest head at seq {lastCheckpointSeq}, more than the {options.MaxUnanchoredRecords} the head schedule allows: later heads were deleted, or the writer stopped uncleanly");
        }

        if (failure is null && witnessHeads is not null)
        {
            failure = CheckWitness(heads, witnessHeads, trusted, options);
        }

        return new AuditChainReport(writer, entries.Count, lastSeq, heads.Checked, failure, lastCheckpointSeq, witnessedSeq);
    }

    // The report of a chain whose records are read up to a line that is not a record: the walk fails there or before.
    private static AuditChainReport Walked(string writer, List<Entry> entries, long? witnessedSeq)
    {
        var (failure, checkedCount) = WalkChain(writer, entries);
        return new AuditChainReport(writer, checkedCount, checkedCount, 0, failure, 0, witnessedSeq);
    }

    /// <summary>The log's heads against the witness's copies of them (see the class remarks).</summary>
    private static AuditFailure? CheckWitness(HeadWalk heads, List<WitnessEntry> witnessHeads, Dictionary<string, ECDsa> trusted, AuditVerificationOptions options)
    {
        var witnessKeys = options.TrustedWitnessKeys.DistinctBy(KeyIds.Compute, StringComparer.Ordinal).ToDictionary(KeyIds.Compute, StringComparer.Ordinal);
        var latest = heads.Latest;
        var latestSeq = latest?.Seq ?? 0;
        foreach (var entry in witnessHeads)
        {
            if (entry.Head is not { } copy)
            {
                return new AuditFailure(AuditFailureKind.Malformed, null, entry.Blob, null, "witness head is not in the audit format");
            }

            if (!witnessKeys.TryGetValue(copy.WitnessKeyId, out var witnessKey) || !copy.VerifyWitnessSignature(witnessKey))
            {
                return new AuditFailure(AuditFailureKind.BadCheckpointSignature, copy.Head.Seq, entry.Blob, null, "witness head is not countersigned by a trusted witness key");
            }

            if (!trusted.TryGetValue(copy.Head.KeyId, out var logKey) || !copy.Head.VerifySignature(logKey))
            {
                return new AuditFailure(AuditFailureKind.BadCheckpointSignature, copy.Head.Seq, entry.Blob, null, "witness head is not validly signed by a trusted checkpoint key");
            }

            if (copy.Head.Seq != entry.TreeSize || !string.Equals(copy.Head.WriterId, heads.Writer ?? copy.Head.WriterId, StringComparison.Ordinal))
            {
                return new AuditFailure(AuditFailureKind.Malformed, copy.Head.Seq, entry.Blob, null, "witness head content does not match its blob name");
            }
        }

        if (witnessHeads.Count > 0 && witnessHeads[^1].TreeSize > latestSeq)
        {
            var ahead = witnessHeads[^1];
            return new AuditFailure(
                AuditFailureKind.WitnessAhead, Math.Min(latestSeq, heads.RecordCount) + 1, ahead.Blob, null,
                $"the witness holds a head at tree size {ahead.TreeSize} but the log's latest head is at {latestSeq} (records: {heads.RecordCount}): the log was truncated or its later heads deleted");
        }

        foreach (var entry in witnessHeads)
        {
            var head = entry.Head!.Head;
            if (!string.Equals(Convert.ToHexStringLower(heads.Tree.Root(head.Seq)), head.Root, StringComparison.Ordinal)
                || !string.Equals(heads.RecordHash(head.Seq), head.Hash, StringComparison.Ordinal))
            {
                return new AuditFailure(
                    AuditFailureKind.WitnessMismatch, head.Seq, entry.Blob, null,
                    $"the witness head at tree size {head.Seq} is not the Merkle root of the log's records 1..{head.Seq}: they were rewritten");
            }
        }

        if (latest is { IsTreeHead: true } && (witnessHeads.Count == 0 || witnessHeads[^1].TreeSize < latest.Seq)
            && options.Time.GetUtcNow() - latest.Time > options.WitnessLag)
        {
            var witnessed = witnessHeads.Count == 0 ? 0 : witnessHeads[^1].TreeSize;
            return new AuditFailure(
                AuditFailureKind.Unwitnessed, latest.Seq, null, null,
                $"the log's latest head (tree size {latest.Seq}, {latest.Time:O}) is not in the witness after {options.WitnessLag}; the witness is at {witnessed}");
        }

        return null;
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
            if (entry.Hash is null)
            {
                return (new AuditFailure(AuditFailureKind.Malformed, null, entry.Blob, entry.Line, entry.Error ?? "not an audit record"), checkedCount);
            }

            var record = entry;

            if (!entry.HashValid)
            {
                return (new AuditFailure(AuditFailureKind.Modified, record.Seq, entry.Blob, entry.Line, "record content does not match its hash"), checkedCount);
            }

            if (!entry.OwnWriter)
            {
                return (new AuditFailure(AuditFailureKind.Modified, record.Seq, entry.Blob, entry.Line, "record belongs to another writer's chain"), checkedCount);
            }

            if (record.Seq == expectedSeq && string.Equals(record.Prev, expectedPrev, StringComparison.Ordinal))
            {
                expectedSeq++;
                expectedPrev = record.Hash!;
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
    private static bool LaterEntryFills(List<Entry> entries, int index, long expectedSeq, Entry record)
    {
        for (var j = index + 1; j < entries.Count; j++)
        {
            if (entries[j] is { Hash: not null } later
                && ((later.Seq >= expectedSeq && later.Seq < record.Seq) || string.Equals(later.Hash, record.Prev, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    private static AuditFailure? CheckCheckpoint(string writer, long seq, string name, ReadOnlySpan<byte> content, HeadWalk heads, Dictionary<string, ECDsa> trusted)
    {
        var entries = heads.Entries;
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

        if (checkpoint.IsTreeHead && (checkpoint.Seq < 1 || !string.Equals(Convert.ToHexStringLower(heads.Tree.Root(checkpoint.Seq)), checkpoint.Root, StringComparison.Ordinal)))
        {
            return new AuditFailure(
                AuditFailureKind.Inconsistent, checkpoint.Seq, name, null,
                $"the head's Merkle root is not the root of records 1..{checkpoint.Seq}: a record under it was swapped or rewritten");
        }

        if (checkpoint.Seq < 1 || !string.Equals(entries[(int)(checkpoint.Seq - 1)].Hash, checkpoint.Hash, StringComparison.Ordinal))
        {
            return new AuditFailure(AuditFailureKind.Truncated, checkpoint.Seq, name, null, $"the record at seq {checkpoint.Seq} is not the one the checkpoint signed: the chain was cut and rewritten");
        }

        if (checkpoint.IsTreeHead)
        {
            var expectedPrev = heads.Latest?.HeadHash() ?? AuditRecord.GenesisHash;
            if (!string.Equals(checkpoint.PrevHead, expectedPrev, StringComparison.Ordinal))
            {
                return new AuditFailure(
                    AuditFailureKind.HeadMissing, checkpoint.Seq, name, null,
                    $"prevHead does not name the head before it ({(heads.Latest is { } before ? $"seq {before.Seq}" : "none")}): a head was deleted");
            }

            if (heads.LatestTreeHead is { } previous)
            {
                // RFC 9162 §2.1.4: the proof is made from the records and checked with the two signed roots only.
                var proof = heads.Tree.ConsistencyProof(previous.Seq, checkpoint.Seq);
                if (!MerkleHash.VerifyConsistency(previous.Seq, checkpoint.Seq, Convert.FromHexString(previous.Root!), Convert.FromHexString(checkpoint.Root!), proof))
                {
                    return new AuditFailure(
                        AuditFailureKind.Inconsistent, checkpoint.Seq, name, null,
                        $"the head is not consistent with the head at tree size {previous.Seq}");
                }
            }
        }

        heads.Accept(checkpoint);
        return null;
    }

    /// <summary>The heads of one chain as they are checked, and the Merkle tree of its records (built when first needed).</summary>
    private sealed class HeadWalk(List<Entry> entries)
    {
        private MerkleTree? _tree;

        public List<Entry> Entries => entries;

        public long RecordCount => entries.Count;

        public string? Writer => Latest?.WriterId;

        public MerkleTree Tree => _tree ??= new MerkleTree(entries.Select(static e => e.Leaf!).ToList());

        public AuditCheckpoint? Latest { get; private set; }

        public AuditCheckpoint? LatestTreeHead { get; private set; }

        public int Checked { get; private set; }

        public string RecordHash(long seq) => entries[(int)(seq - 1)].Hash!;

        public void Accept(AuditCheckpoint checkpoint)
        {
            Latest = checkpoint;
            if (checkpoint.IsTreeHead)
            {
                LatestTreeHead = checkpoint;
            }

            Checked++;
        }
    }

    private sealed record WitnessEntry(long TreeSize, string Blob, AuditWitnessHead? Head);

    private sealed class ChainBlobs
    {
        public List<(long Segment, string Name)> Segments { get; } = [];

        public List<(long Seq, string Name)> Checkpoints { get; } = [];

        public List<string> BadNames { get; } = [];

        public List<string> Oversized { get; } = [];
    }

    /// <summary>
    /// A line of a chain as the checks need it: of a record only its seq, links, whether it is its writer's and hashes
    /// to its hash, and its Merkle leaf; null hash: not a record (<paramref name="Error"/>). The parsed record itself
    /// (its stages, parameters and strings, several times its line) is not kept: a chain is held in memory whole, and
    /// so in about the size of its lines rather than many times it, however many records were planted in it.
    /// </summary>
    private sealed record Entry(long Seq, string? Prev, string? Hash, bool OwnWriter, bool HashValid, byte[]? Leaf, string? Error, string Blob, int Line)
    {
        public static Entry Of(AuditRecord? record, string? error, string writer, string blob, int line) => record is null
            ? new Entry(0, null, null, false, false, null, error, blob, line)
            : new Entry(
                record.Seq,
                record.Prev,
                record.Hash,
                string.Equals(record.WriterId, writer, StringComparison.Ordinal),
                string.Equals(record.ComputeHash(), record.Hash, StringComparison.Ordinal),
                MerkleHash.Leaf(record.CanonicalBytes()),
                null,
                blob,
                line);
    }
}
