namespace ServerlessServe.Core.Audit;

/// <summary>
/// The verification of one writer's chain: records checked, the last seq, the checkpoints checked and the highest of
/// them (<see cref="LastCheckpointSeq"/>, 0 when none), the first failure if any, and the tree size of the latest head in
/// the witness (<see cref="WitnessedSeq"/>, null when no witness was checked).
/// </summary>
public sealed record AuditChainReport(string WriterId, long RecordsChecked, long LastSeq, int CheckpointsChecked, AuditFailure? Failure, long LastCheckpointSeq = 0, long? WitnessedSeq = null)
{
    public bool Ok => Failure is null;

    /// <summary>
    /// Records after the last checkpoint (all of them when there is none): the tail that could be cut or rewritten
    /// without a finding. A writer still at work has a short one; a long one is worth a look. Meaningful when the
    /// records and checkpoints are sound (<see cref="Ok"/>, or <see cref="AuditFailureKind.Unanchored"/>).
    /// </summary>
    public long RecordsAfterLastCheckpoint => Math.Max(0, LastSeq - LastCheckpointSeq);
}
