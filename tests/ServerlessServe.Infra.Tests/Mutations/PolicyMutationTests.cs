using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests.Mutations;

/// <summary>
/// Every rule of <see cref="SecurityPolicy"/> must reject the real compiled template with one property broken
/// (<see cref="TemplateMutation"/>): the cases live in partial files by concern, and every rule has at least one.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed partial class PolicyMutationTests(CompiledTemplateFixture fixture)
{
    private static IEnumerable<TemplateMutation> All =>
        StorageCases.Concat(AppCases).Concat(IdentityCases).Concat(NetworkCases).Concat(InferenceCases).Concat(DataProtectionCases).Concat(EgressCases);

    public static TheoryData<string> Cases { get; } = new(All.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mutation_IsRejectedByItsRule_NamingTheOffender(string name)
    {
        var mutation = All.Single(m => m.Name == name);
        var rule = SecurityPolicy.Get(mutation.RuleId);
        var unchanged = mutation with { Change = _ => { } };
        Assert.Empty(rule.Evaluate(unchanged.Evaluate(fixture.Template)));

        var violations = rule.Evaluate(mutation.Evaluate(fixture.Template));

        Assert.NotEmpty(violations);
        Assert.All(violations, v => Assert.Equal(mutation.RuleId, v.Rule));
        Assert.True(
            violations.Any(v => v.Resource.Contains(mutation.Offender, StringComparison.Ordinal) || v.Reason.Contains(mutation.Offender, StringComparison.Ordinal)),
            $"no violation names '{mutation.Offender}':\n{string.Join('\n', violations)}");
    }

    [Fact]
    public void Mutations_CoverEveryRule()
    {
        var covered = All.Select(m => m.RuleId).ToHashSet();
        var uncovered = SecurityPolicy.Rules.Select(r => r.Id).Where(id => !covered.Contains(id)).ToList();
        Assert.True(uncovered.Count == 0, $"rules without a mutation: {string.Join(", ", uncovered)}");
        Assert.Equal(All.Count(), All.Select(m => m.Name).Distinct().Count());
    }
}
