namespace ServerlessServe.Core.Audit;

/// <summary>
/// The first thing wrong with a chain: its kind, the record seq it concerns (for <see cref="AuditFailureKind.Deleted"/>
/// and <see cref="AuditFailureKind.Truncated"/> the first missing seq), and where it was found: the blob and the
/// 1-based line in it (null for a checkpoint or a missing blob).
/// </summary>
public sealed record AuditFailure(AuditFailureKind Kind, long? Seq, string? Blob, int? Line, string Detail)
{
    public override string ToString() =>
        $"{Kind}{(Seq is { } seq ? $" at seq {seq}" : string.Empty)}{(Blob is null ? string.Empty : $" in {Blob}")}{(Line is { } line ? $" line {line}" : string.Empty)}: {Detail}";
}
