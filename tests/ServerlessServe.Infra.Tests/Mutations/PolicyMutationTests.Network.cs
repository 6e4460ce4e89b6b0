using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateMutation;

namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private static IEnumerable<TemplateMutation> NetworkCases =>
    [
        new("the last outbound rule allows the Internet", SecurityPolicy.AppSubnetNsgEgressFirstMatch.Id, "nsg-",
            t => Set(Module(t, "network"), "variables.denyInternetOutbound.properties.access", "Allow")),
    ];
}
