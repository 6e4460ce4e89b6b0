using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateMutation;

namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private static IEnumerable<TemplateMutation> StorageCases =>
    [
        new("data account allows shared keys", SecurityPolicy.StorageSharedKeyDisabled.Id, "stdata",
            t => Set(Module(t, "storage"), "variables.commonProperties.allowSharedKeyAccess", true)),
    ];
}
