using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

/// <summary>
/// The security policy the templates must meet, as a table of rules. Each rule reads evaluated
/// resources (<see cref="TemplateEvaluator"/>) and demands known, literal values: a value that cannot be
/// evaluated before deployment is reported as a violation, never assumed compliant.
/// Rules live in partial files by concern (storage, identity, apps, network).
/// </summary>
public static partial class SecurityPolicy
{
    /// <summary>The table. A getter, not an initialiser: the rules are static properties spread over
    /// partial files, whose initialisation order is not defined.</summary>
    public static IReadOnlyList<PolicyRule> Rules =>
    [
        StorageSharedKeyDisabled,
        StorageMinimumTls12,
        StorageHttpsOnly,
        StoragePublicAccessDisabled,
        ModelsContainerVersionImmutable,
        AuditContainerRetentionAppendOnly,
        BlobContainersPrivate,
        JobPayloadsExpire,
        AppSettingsHoldNoKeys,
        FunctionHostStorageIdentityBased,
        SecretsOnlyViaKeyVaultReferences,
        RoleAssignmentsUseAllowedRoles,
        RoleAssignmentsScopedBelowResourceGroup,
        NoPrivilegedRoles,
        FunctionAppHttpsAndFtpOff,
        FunctionAppOutboundThroughVnet,
        InferenceIngressVnetOnly,
        InferenceReachableFromGateway,
        InferenceResourcesFitProfile,
        PublishJobInsideVnet,
        KeyVaultRbacAndPurgeProtection,
        AppSubnetNsgEgressFirstMatch,
        RegistryPrivateWithVnet,
        EgressFirewallRoutesAndNamedHosts,
        RegistryAdminUserDisabled,
        MonitoringLocalAuthDisabled,
        AuditWritersCannotDelete,
        AuditAccountsDeleteLocked,
        DiagnosticSettingsToWorkspace,
        TableRolesPerTable,
        RetentionChangeAlert,
    ];

    public static PolicyRule Get(string id) =>
        Rules.SingleOrDefault(r => r.Id == id) ?? throw new KeyNotFoundException($"No policy rule '{id}'.");

    /// <summary>A violation unless the value at <paramref name="path"/> passes <paramref name="test"/>.</summary>
    private static IEnumerable<Violation> Require(
        string ruleId, DeployedResource resource, string path, Func<JsonNode?, bool> test, string expected)
    {
        var value = resource.Body.Get(path);
        if (!test(value))
        {
            yield return new Violation(ruleId, resource.ToString(), $"{path} must be {expected} but is {value.Describe()}");
        }
    }

    private static IEnumerable<Violation> RequireTrue(string ruleId, DeployedResource resource, string path) =>
        Require(ruleId, resource, path, v => v.IsTrue(), "true");

    private static IEnumerable<Violation> RequireFalse(string ruleId, DeployedResource resource, string path) =>
        Require(ruleId, resource, path, v => v.IsFalse(), "false");

    private static IEnumerable<Violation> RequireString(string ruleId, DeployedResource resource, string path, string expected) =>
        Require(ruleId, resource, path, v => v.IsString(expected), $"'{expected}'");
}
