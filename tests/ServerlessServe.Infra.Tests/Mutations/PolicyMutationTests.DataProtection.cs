namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private static IEnumerable<TemplateMutation> DataProtectionCases => [];
}
