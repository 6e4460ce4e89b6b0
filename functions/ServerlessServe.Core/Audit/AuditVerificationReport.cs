namespace ServerlessServe.Core.Audit;

/// <summary>
/// The verification of every chain in an audit container. <see cref="Ok"/> only when there is at least one record and
/// every chain is intact: a missing container (<see cref="ContainerMissing"/>) or one without records
/// (<see cref="IsEmpty"/>) is not a pass, so a mistyped container name cannot verify; use <see cref="IsOk"/> with
/// <c>allowEmpty</c> where an empty trail is expected.
/// </summary>
public sealed record AuditVerificationReport(IReadOnlyList<AuditChainReport> Chains, bool ContainerMissing = false, bool WitnessMissing = false)
{
    /// <summary>True when every chain is intact and there is at least one record.</summary>
    public bool Ok => IsOk(allowEmpty: false);

    /// <summary>True when no chain holds a record (no chain at all, or only empty segments) and none failed.</summary>
    public bool IsEmpty => Chains.All(static c => c.Failure is null && c.LastSeq == 0);

    public long RecordsChecked => Chains.Sum(static c => c.RecordsChecked);

    /// <summary>
    /// True when every chain is intact; an empty or missing container passes only with <paramref name="allowEmpty"/>, and
    /// a witness asked for that does not exist (<see cref="WitnessMissing"/>) never does.
    /// </summary>
    public bool IsOk(bool allowEmpty) => (allowEmpty || !IsEmpty) && !WitnessMissing && Chains.All(static c => c.Ok);
}
