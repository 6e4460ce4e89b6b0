using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateMutation;

namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private const string RoleAssignment = "Microsoft.Authorization/roleAssignments";
    private const string Diagnostics = "Microsoft.Insights/diagnosticSettings";

    // Text of the role assignments' name expressions in rbac.bicep's compiled template (no symbolic names there).
    private const string GatewayAuditWriter = "parameters('auditContainerName')), resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('gatewayIdentityName'))";
    private const string GatewayJobPayloads = "parameters('jobPayloadsContainerName')), resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('gatewayIdentityName'))";
    private const string AdminTableWriters = "variables('adminTables')[copyIndex()]";

    private static IEnumerable<TemplateMutation> DataProtectionCases =>
    [
        // The gateway's `audit` role loses its ABAC condition: it could delete audit records again.
        new("gateway's audit role without its delete-refusing condition", SecurityPolicy.AuditWritersCannotDelete.Id, "id-gateway-",
            t => Remove(Resource(t, "rbac", RoleAssignment, GatewayAuditWriter), "properties.condition")),
        // A condition whose OR lets delete through again.
        new("gateway's audit condition with an OR that lets delete through", SecurityPolicy.AuditWritersCannotDelete.Id, "id-gateway-",
            t => Set(Resource(t, "rbac", RoleAssignment, GatewayAuditWriter), "properties.condition",
                "[concat(variables('noBlobDelete'), ' OR (@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringLike ''*'')')]")),
        // The job-payloads role widened to the whole data account: Blob Data Contributor reaches `audit` unconditioned.
        new("gateway holds Blob Data Contributor on the whole data account", SecurityPolicy.AuditWritersCannotDelete.Id, "id-gateway-",
            t => Set(Resource(t, "rbac", RoleAssignment, GatewayJobPayloads), "scope", "[resourceId('Microsoft.Storage/storageAccounts', parameters('dataAccountName'))]")),

        new("data account without its CanNotDelete lock", SecurityPolicy.AuditAccountsDeleteLocked.Id, "stdata",
            t => RemoveResource(t, "storage", "Microsoft.Authorization/locks")),
        new("witness account lock level not CanNotDelete", SecurityPolicy.AuditAccountsDeleteLocked.Id, "stwit",
            t => Set(Resource(t, "witness", "Microsoft.Authorization/locks"), "properties.level", "NotSpecified")),

        new("blob services send no StorageDelete logs", SecurityPolicy.DiagnosticSettingsToWorkspace.Id, "stdata",
            t => Remove(Module(t, "storage"), "variables.storageLogCategories[2]")),
        new("data account's table service has no diagnostic setting", SecurityPolicy.DiagnosticSettingsToWorkspace.Id, "stdata",
            t => RemoveResource(t, "storage", Diagnostics, "diag-data-table")),
        new("witness account's blob logs disabled", SecurityPolicy.DiagnosticSettingsToWorkspace.Id, "stwit",
            t => Set(Resource(t, "witness", Diagnostics), "properties.logs[0].enabled", false)),
        new("Key Vault's AuditEvent not sent", SecurityPolicy.DiagnosticSettingsToWorkspace.Id, "kv",
            t => Set(Resource(t, "keyVault", Diagnostics), "properties.logs[0].category", "AzurePolicyEvaluationDetails")),
        new("gateway's FunctionAppLogs not sent", SecurityPolicy.DiagnosticSettingsToWorkspace.Id, "gateway",
            t => RemoveResource(t, "gateway", Diagnostics)),
        new("admin app's logs sent to a workspace of another deployment", SecurityPolicy.DiagnosticSettingsToWorkspace.Id, "admin",
            t => Set(Resource(t, "admin", Diagnostics), "properties.workspaceId", "/subscriptions/0/resourceGroups/elsewhere/providers/Microsoft.OperationalInsights/workspaces/log-other")),

        // The old form: the admin app's table role on the whole data account.
        new("admin app's table roles account-wide", SecurityPolicy.TableRolesPerTable.Id, "id-admin-",
            t => Set(Resource(t, "rbac", RoleAssignment, AdminTableWriters), "scope", "[resourceId('Microsoft.Storage/storageAccounts', parameters('dataAccountName'))]")),
        new("gateway holds no role on the extraction table", SecurityPolicy.TableRolesPerTable.Id, "extraction",
            t => Remove(Module(t, "rbac"), "variables.gatewayTables[4]")),

        new("retention-change alert misses immutability-policy deletes", SecurityPolicy.RetentionChangeAlert.Id, "immutabilityPolicies/delete",
            t => Remove(Module(t, "auditAlerts"), "variables.watchedOperations[1]")),
        new("retention-change alert disabled", SecurityPolicy.RetentionChangeAlert.Id, "no enabled activity-log alert",
            t => Set(Resource(t, "auditAlerts", "Microsoft.Insights/activityLogAlerts"), "properties.enabled", false)),
    ];

    /// <summary>Removes the one resource of <paramref name="type"/> (named with <paramref name="nameContains"/>) that the real module declares.</summary>
    private static void RemoveResource(JsonObject template, string module, string type, string? nameContains = null)
    {
        var resource = Resource(template, module, type, nameContains);
        var declared = Module(template, module)["resources"];
        switch (declared)
        {
            case JsonArray list:
                list.Remove(resource);
                break;
            case JsonObject symbolic:
                symbolic.Remove(symbolic.Single(p => ReferenceEquals(p.Value, resource)).Key);
                break;
            default:
                throw new InvalidOperationException($"'{module}' declares no resources");
        }
    }
}
