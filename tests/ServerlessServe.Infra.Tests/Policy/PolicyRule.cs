namespace ServerlessServe.Infra.Tests.Policy;

/// <summary>A named security rule over the resources of a deployment.</summary>
/// <param name="Id">Stable id, used in test names and violation messages.</param>
/// <param name="Description">What the rule demands, in one sentence.</param>
/// <param name="Check">Returns one violation per offending resource (none when compliant).</param>
public sealed record PolicyRule(string Id, string Description, Func<PolicyContext, IEnumerable<Violation>> Check)
{
    public IReadOnlyList<Violation> Evaluate(PolicyContext context) => [.. Check(context)];

    public override string ToString() => Id;
}
