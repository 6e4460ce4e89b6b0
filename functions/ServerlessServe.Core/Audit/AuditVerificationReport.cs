namespace ServerlessServe.Core.Audit;

/// <summary>The verification of every chain in an audit container; <see cref="Ok"/> when every chain is intact.</summary>
public sealed record AuditVerificationReport(IReadOnlyList<AuditChainReport> Chains)
{
    public bool Ok => Chains.All(static c => c.Ok);

    public long RecordsChecked => Chains.Sum(static c => c.RecordsChecked);
}
