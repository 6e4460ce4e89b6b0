using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

public static partial class SecurityPolicy
{
    private const string RoleAssignments = "Microsoft.Authorization/roleAssignments";

    /// <summary>Built-in roles the platform may hand out: data-plane roles and pull/publish rights only.</summary>
    public static IReadOnlyDictionary<string, string> AllowedRoles { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"] = "Storage Blob Data Reader",
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "AcrPull",
    };

    /// <summary>Roles that control the resources or access itself; never assigned by these templates.</summary>
    public static IReadOnlyDictionary<string, string> PrivilegedRoles { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"] = "Owner",
        ["b24988ac-6180-42a0-ab88-20f7382dd24c"] = "Contributor",
        ["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"] = "User Access Administrator",
        ["f58310d9-a9f6-439a-9e8d-f62e7b41a168"] = "Role Based Access Control Administrator",
        // Roles that can list or regenerate storage account keys (and, for the first, turn shared-key
        // access back on): holding one defeats identity-only storage.
        ["17d1049b-9a84-46fb-8f53-869881c3d3ab"] = "Storage Account Contributor",
        ["81a9662b-bebf-436f-a333-f67b29880f12"] = "Storage Account Key Operator Service Role",
        ["c12c1c16-33a1-487b-954d-41c89c60f349"] = "Reader and Data Access",
    };

    public static PolicyRule RoleAssignmentsUseAllowedRoles { get; } = new(
        "role-assignments-use-allowed-roles",
        "Every role assignment names a built-in role from the allowed list.",
        ctx => ctx.OfType(RoleAssignments).SelectMany(r =>
        {
            var role = RoleId(r);
            return role is not null && AllowedRoles.ContainsKey(role)
                ? []
                : new[] { new Violation("role-assignments-use-allowed-roles", r.ToString(), $"role {r.Body.Get("properties.roleDefinitionId").Describe()} is not in the allowed list") };
        }));

    public static PolicyRule RoleAssignmentsScopedBelowResourceGroup { get; } = new(
        "role-assignments-scoped-below-resource-group",
        "Every role assignment is scoped to a resource (a container, an account, a vault, ...), never a resource group or subscription.",
        ctx => ctx.OfType(RoleAssignments).SelectMany(r =>
            r.Scope is not null && ResourceScope().IsMatch(r.Scope)
                ? []
                : new[] { new Violation("role-assignments-scoped-below-resource-group", r.ToString(), $"scope is {(r.Scope is null ? $"the deployment's {r.DeploymentScope}" : $"'{r.Scope}'")}, not a resource below the resource group") }));

    public static PolicyRule NoPrivilegedRoles { get; } = new(
        "no-privileged-roles",
        "No Owner, Contributor, User Access Administrator, RBAC Administrator or storage-key-reading role assignment, and no custom role definitions.",
        ctx => ctx.OfType(RoleAssignments)
            .Where(r => RoleId(r) is { } role && PrivilegedRoles.ContainsKey(role))
            .Select(r => new Violation("no-privileged-roles", r.ToString(), $"assigns {PrivilegedRoles[RoleId(r)!]}"))
            .Concat(ctx.OfType("Microsoft.Authorization/roleDefinitions")
                .Select(r => new Violation("no-privileged-roles", r.ToString(), "custom role definitions are not allowed"))));

    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string TableDataReader = "76199698-9eea-4c19-bc75-cec21354c6b6";
    private const string Tables = "Microsoft.Storage/storageAccounts/tableServices/tables";
    private const string BlobDeleteAction = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete";

    /// <summary>The write-once audit containers: the log and the witness heads.</summary>
    public static IReadOnlyList<string> AuditContainerNames { get; } = ["audit", "audit-witness"];

    public static PolicyRule AuditWritersCannotDelete { get; } = new(
        "audit-writers-cannot-delete",
        "Every role assignment that grants blob delete (Blob Data Contributor or Owner) on an `audit` or `audit-witness` container, on the container or anything above it, carries an ABAC condition (version 2.0) that refuses the blob delete action.",
        ctx =>
        {
            const string id = "audit-writers-cannot-delete";
            var containers = ctx.OfType(Containers).Where(c => AuditContainerNames.Contains(c.ShortName, StringComparer.Ordinal)).ToList();
            return ctx.OfType(RoleAssignments)
                .Where(a => RoleId(a) is BlobDataContributor or BlobDataOwner)
                .SelectMany(a => containers.Where(c => Covers(a.Scope, ResourceIdOf(c))).Take(1).Select(c => (Assignment: a, Container: c)))
                .Where(x => !RefusesBlobDelete(x.Assignment))
                .Select(x => new Violation(id, x.Assignment.ToString(), $"grants blob delete on '{x.Container.Name}' (scope '{x.Assignment.Scope}') without a version 2.0 condition refusing '{BlobDeleteAction}'"));
        });

    public static PolicyRule TableRolesPerTable { get; } = new(
        "table-roles-per-table",
        "On a storage account that declares tables, every table data role is scoped to one declared table (never the account or its table service), and every declared table is granted to someone.",
        ctx =>
        {
            const string id = "table-roles-per-table";
            var tables = ctx.OfType(Tables).ToList();
            var accounts = ctx.OfType(StorageAccounts).Where(a => tables.Any(t => t.Name.StartsWith($"{a.Name}/", StringComparison.Ordinal))).ToList();
            var tableIds = tables.Select(ResourceIdOf).ToHashSet(StringComparer.Ordinal);
            var tableRoles = ctx.OfType(RoleAssignments).Where(a => RoleId(a) is TableDataContributor or TableDataReader).ToList();

            var wide = tableRoles
                .Where(a => accounts.Any(acc => Covers(a.Scope, ResourceIdOf(acc)) || (a.Scope ?? string.Empty).StartsWith($"{ResourceIdOf(acc)}/", StringComparison.Ordinal)))
                .Where(a => a.Scope is null || !tableIds.Contains(a.Scope))
                .Select(a => new Violation(id, a.ToString(), $"table role scoped to '{a.Scope ?? "the deployment's scope"}', not to one declared table"));
            var ungranted = tables
                .Where(t => !tableRoles.Any(a => a.Scope == ResourceIdOf(t)))
                .Select(t => new Violation(id, t.ToString(), $"table '{t.ShortName}' is granted to no one: the app that uses it would be refused"));
            return wide.Concat(ungranted);
        });

    /// <summary>Whether an assignment at <paramref name="scope"/> (null: the deployment's own scope, above everything) grants on <paramref name="resourceId"/>.</summary>
    private static bool Covers(string? scope, string resourceId) =>
        scope is null || scope == resourceId || resourceId.StartsWith($"{scope}/", StringComparison.Ordinal);

    /// <summary>A version 2.0 condition that refuses blob delete and has no OR through which the action could pass.</summary>
    private static bool RefusesBlobDelete(DeployedResource assignment)
    {
        var condition = assignment.Body.Get("properties.condition").AsString();
        return assignment.Body.Get("properties.conditionVersion").IsString("2.0")
            && condition is not null
            && Whitespace().Replace(condition, string.Empty).Contains($"!(ActionMatches{{'{BlobDeleteAction}'}})", StringComparison.Ordinal)
            && !OrOperator().IsMatch(condition);
    }

    /// <summary>The ID of a resource in the resource group (nested types included), as the evaluator renders IDs.</summary>
    internal static string ResourceIdOf(DeployedResource resource)
    {
        var type = resource.Type.Split('/');
        var names = resource.Name.Split('/');
        var path = string.Concat(type.Skip(1).Zip(names, (t, n) => $"/{t}/{n}"));
        return $"{TemplateTerms.RgPrefix}/providers/{type[0]}{path}";
    }

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\bOR\b|\|\|", RegexOptions.CultureInvariant)]
    private static partial Regex OrOperator();

    /// <summary>The role definition GUID of an assignment, or null when it is not a known literal.</summary>
    private static string? RoleId(DeployedResource assignment)
    {
        var id = assignment.Body.Get("properties.roleDefinitionId").AsString();
        if (id is null)
        {
            return null;
        }

        var last = id[(id.LastIndexOf('/') + 1)..];
        return Guid.TryParse(last, out _) ? last : null;
    }

    // .../providers/Namespace.Provider/type/name[/type/name...]: an actual resource.
    [GeneratedRegex(@"/providers/[A-Za-z0-9]+\.[A-Za-z0-9.]+/[^/]+/[^/]+", RegexOptions.CultureInvariant)]
    private static partial Regex ResourceScope();
}
