using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateMutation;

namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private const string Containers = "Microsoft.Storage/storageAccounts/blobServices/containers";
    private const string Policies = "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies";

    private static IEnumerable<TemplateMutation> StorageCases =>
    [
        new("data and runtime accounts allow shared keys", SecurityPolicy.StorageSharedKeyDisabled.Id, "stdata",
            t => Set(Module(t, "storage"), "variables.commonProperties.allowSharedKeyAccess", true)),
        new("witness account allows shared keys", SecurityPolicy.StorageSharedKeyDisabled.Id, "stwit",
            t => Set(Resource(t, "witness", "Microsoft.Storage/storageAccounts"), "properties.allowSharedKeyAccess", true)),
        new("accounts accept TLS 1.0", SecurityPolicy.StorageMinimumTls12.Id, "strt",
            t => Set(Module(t, "storage"), "variables.commonProperties.minimumTlsVersion", "TLS1_0")),
        new("accounts accept plain HTTP", SecurityPolicy.StorageHttpsOnly.Id, "stdata",
            t => Set(Module(t, "storage"), "variables.commonProperties.supportsHttpsTrafficOnly", false)),
        new("accounts reachable from public networks", SecurityPolicy.StoragePublicAccessDisabled.Id, "stdata",
            t => Set(Module(t, "storage"), "variables.commonProperties.publicNetworkAccess", "Enabled")),
        new("models container without version-level immutability", SecurityPolicy.ModelsContainerVersionImmutable.Id, "/default/models",
            t => Set(Resource(t, "storage", Containers, "modelsContainerName"), "properties.immutableStorageWithVersioning.enabled", false)),
        new("models versions immutable for no time", SecurityPolicy.ModelsContainerVersionImmutable.Id, "/default/models",
            t => Remove(Resource(t, "storage", Policies, "modelsContainerName"), "properties.immutabilityPeriodSinceCreationInDays")),
        new("audit blobs rewritable: no protected append writes", SecurityPolicy.AuditContainerRetentionAppendOnly.Id, "/default/audit",
            t => Set(Resource(t, "storage", Policies, "auditContainerName"), "properties.allowProtectedAppendWrites", false)),
        new("audit container without a retention policy", SecurityPolicy.AuditContainerRetentionAppendOnly.Id, "/default/audit",
            t => Remove(Module(t, "storage"), $"resources[{IndexOf(Module(t, "storage"), Policies, "auditContainerName")}]")),
        new("audit container readable anonymously", SecurityPolicy.BlobContainersPrivate.Id, "/default/audit",
            t => Set(Resource(t, "storage", Containers, "auditContainerName"), "properties.publicAccess", "Blob")),
        new("job payloads kept in old versions", SecurityPolicy.JobPayloadsExpire.Id, "/default/job-payloads",
            t => Remove(Resource(t, "storage", "Microsoft.Storage/storageAccounts/managementPolicies"), "properties.policy.rules[0].definition.actions.version")),
    ];

    /// <summary>The position of a declaration in a module compiled without symbolic names.</summary>
    private static int IndexOf(JsonObject module, string type, string nameContains)
    {
        var resources = module["resources"]!.AsArray();
        return resources.Select((r, i) => (r, i))
            .Single(x => x.r!.Get("type").IsString(type) && x.r!.Get("name").Render().Contains(nameContains, StringComparison.Ordinal)).i;
    }
}
