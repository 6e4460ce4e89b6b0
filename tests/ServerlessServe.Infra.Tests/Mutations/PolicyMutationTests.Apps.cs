using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateMutation;

namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private const string Sites = "Microsoft.Web/sites";

    private static IEnumerable<TemplateMutation> AppCases =>
    [
        new("gateway setting carries an account key", SecurityPolicy.AppSettingsHoldNoKeys.Id, "func-gateway",
            t => Set(Named(Module(t, "gateway"), "variables.appSettings", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"), "value",
                "[format('DefaultEndpointsProtocol=https;AccountName={0};AccountKey={1}', parameters('name'), listKeys(resourceId('Microsoft.Storage/storageAccounts', 'strt'), '2025-01-01').keys[0].value)]")),
        new("gateway host storage by connection string", SecurityPolicy.FunctionHostStorageIdentityBased.Id, "func-gateway",
            t => Set(Named(Module(t, "gateway"), "variables.appSettings", "AzureWebJobsStorage__credential"), "name", "AzureWebJobsStorage")),
        new("gateway host queues on an account the deployment does not declare", SecurityPolicy.FunctionHostStorageIdentityBased.Id, "func-gateway",
            t => Set(Named(Module(t, "gateway"), "variables.appSettings", "AzureWebJobsStorage__queueServiceUri"), "value", "https://elsewhere.queue.core.windows.net/")),
        new("admin pseudonym key in plain text", SecurityPolicy.SecretsOnlyViaKeyVaultReferences.Id, "func-admin",
            t => Set(Named(Module(t, "admin"), "variables.appSettings", "ServerlessServe__Audit__PseudonymKey"), "value", "c2VjcmV0LXBzZXVkb255bS1rZXk=")),
        new("gateway over plain HTTP", SecurityPolicy.FunctionAppHttpsAndFtpOff.Id, "func-gateway",
            t => Set(Resource(t, "gateway", Sites), "properties.httpsOnly", false)),
        new("admin accepts FTP", SecurityPolicy.FunctionAppHttpsAndFtpOff.Id, "func-admin",
            t => Set(Resource(t, "admin", Sites), "properties.siteConfig.ftpsState", "AllAllowed")),
        new("gateway outside the VNet", SecurityPolicy.FunctionAppOutboundThroughVnet.Id, "func-gateway",
            t => Set(Resource(t, "gateway", Sites), "properties.virtualNetworkSubnetId", JsonValue.Create((string?)null))),
        new("gateway routes only private traffic through the VNet", SecurityPolicy.FunctionAppOutboundThroughVnet.Id, "func-gateway",
            t => Set(Resource(t, "gateway", Sites), "properties.outboundVnetRouting.allTraffic", false)),
        new("key vault with access policies", SecurityPolicy.KeyVaultRbacAndPurgeProtection.Id, "kv-",
            t => Set(Resource(t, "keyVault", "Microsoft.KeyVault/vaults"), "properties.enableRbacAuthorization", false)),
        new("key vault purgeable", SecurityPolicy.KeyVaultRbacAndPurgeProtection.Id, "kv-",
            t => Remove(Resource(t, "keyVault", "Microsoft.KeyVault/vaults"), "properties.enablePurgeProtection")),
        new("registry admin user on", SecurityPolicy.RegistryAdminUserDisabled.Id, "cr",
            t => Set(Resource(t, "registry", "Microsoft.ContainerRegistry/registries"), "properties.adminUserEnabled", true)),
        new("application insights takes instrumentation keys", SecurityPolicy.MonitoringLocalAuthDisabled.Id, "appi-",
            t => Set(Resource(t, "monitoring", "Microsoft.Insights/components"), "properties.DisableLocalAuth", false)),
        new("log analytics takes shared keys", SecurityPolicy.MonitoringLocalAuthDisabled.Id, "log-",
            t => Set(Resource(t, "monitoring", "Microsoft.OperationalInsights/workspaces"), "properties.features.disableLocalAuth", false)),
    ];
}
