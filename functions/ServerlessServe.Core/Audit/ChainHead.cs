namespace ServerlessServe.Core.Audit;

/// <summary>
/// Where a writer's chain ends in storage: the last committed record (<see cref="Seq"/>, <see cref="Hash"/>) and the
/// segment blob that the next append goes to, with its record count and length (the expected append position).
/// </summary>
internal readonly record struct ChainHead(long Seq, string Hash, long Segment, int SegmentRecords, long SegmentBytes, bool SegmentExists)
{
    public static ChainHead Empty => new(0, AuditRecord.GenesisHash, 0, 0, 0, SegmentExists: false);
}
