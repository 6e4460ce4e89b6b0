namespace ServerlessServe.Fuzz;

/// <summary>Every fuzz target by the name <c>run.sh</c>, the program and the corpus replay tests use (corpus/NAME).</summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, Action<ReadOnlySpan<byte>>> All { get; } = new Dictionary<string, Action<ReadOnlySpan<byte>>>(StringComparer.Ordinal)
    {
        ["request"] = static input => RequestReaderTarget.Run(input),
        ["headers"] = static input => HeadersTarget.Run(input),
        ["audit"] = static input => AuditTarget.Run(input),
        ["artifact"] = static input => ArtifactTarget.Run(input),
        ["jobs"] = static input => JobItemsTarget.Run(input),
    };
}
