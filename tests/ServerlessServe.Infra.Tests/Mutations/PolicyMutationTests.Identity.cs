using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateMutation;

namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private static IEnumerable<TemplateMutation> IdentityCases =>
    [
        // Storage Blob Data Owner: can change ACLs and is not on the list.
        new("gateway reads models as Blob Data Owner", SecurityPolicy.RoleAssignmentsUseAllowedRoles.Id, "main/rbac",
            t => Set(Module(t, "rbac"), "variables.roles.storageBlobDataReader", "b7e6c2ab-4f4b-4e6f-9c7d-1a3b8f5e9a21")),
        new("a role assignment at the resource group", SecurityPolicy.RoleAssignmentsScopedBelowResourceGroup.Id, "main/rbac",
            t => Remove(Module(t, "rbac"), "resources[0].scope")),
        new("gateway given Owner", SecurityPolicy.NoPrivilegedRoles.Id, "main/rbac",
            t => Set(Module(t, "rbac"), "variables.roles.storageBlobDataReader", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635")),
    ];
}
