namespace ServerlessServe.Core.Audit;

/// <summary>The verification of one writer's chain.</summary>
public sealed record AuditChainReport(string WriterId, long RecordsChecked, long LastSeq, int CheckpointsChecked, AuditFailure? Failure)
{
    public bool Ok => Failure is null;
}
