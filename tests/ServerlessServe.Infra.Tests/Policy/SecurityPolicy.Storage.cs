using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

public static partial class SecurityPolicy
{
    private const string StorageAccounts = "Microsoft.Storage/storageAccounts";
    private const string Containers = "Microsoft.Storage/storageAccounts/blobServices/containers";
    private const string ImmutabilityPolicies = "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies";
    private const string ManagementPolicies = "Microsoft.Storage/storageAccounts/managementPolicies";

    public static PolicyRule StorageSharedKeyDisabled { get; } = new(
        "storage-shared-key-disabled",
        "Every storage account refuses shared-key (account key and SAS) authorisation.",
        ctx => ctx.OfType(StorageAccounts).SelectMany(r => RequireFalse("storage-shared-key-disabled", r, "properties.allowSharedKeyAccess")));

    public static PolicyRule StorageMinimumTls12 { get; } = new(
        "storage-minimum-tls-1-2",
        "Every storage account requires TLS 1.2 or later.",
        ctx => ctx.OfType(StorageAccounts).SelectMany(r => RequireString("storage-minimum-tls-1-2", r, "properties.minimumTlsVersion", "TLS1_2")));

    public static PolicyRule StorageHttpsOnly { get; } = new(
        "storage-https-only",
        "Every storage account accepts HTTPS only (stated explicitly, not left to the API default).",
        ctx => ctx.OfType(StorageAccounts).SelectMany(r => RequireTrue("storage-https-only", r, "properties.supportsHttpsTrafficOnly")));

    public static PolicyRule StoragePublicAccessDisabled { get; } = new(
        "storage-public-access-disabled",
        "No storage account allows anonymous blob access; with the VNet, public network access is disabled.",
        ctx => ctx.OfType(StorageAccounts).SelectMany(r =>
            RequireFalse("storage-public-access-disabled", r, "properties.allowBlobPublicAccess")
                .Concat(ctx.VnetEnabled
                    ? RequireString("storage-public-access-disabled", r, "properties.publicNetworkAccess", "Disabled")
                    : [])));

    public static PolicyRule ModelsContainerVersionImmutable { get; } = new(
        "models-container-version-immutable",
        "The `models` container has version-level immutability (WORM) with a time-based retention policy.",
        ctx =>
        {
            const string id = "models-container-version-immutable";
            var models = ctx.OfType(Containers).Where(r => r.ShortName == "models").ToList();
            if (models.Count == 0)
            {
                return [new Violation(id, "(template)", "no `models` blob container is declared")];
            }

            return models.SelectMany(container =>
            {
                var violations = RequireTrue(id, container, "properties.immutableStorageWithVersioning.enabled");
                var policies = RetentionPolicies(ctx, container);
                return policies.Count == 0
                    ? violations.Append(new Violation(id, container.ToString(), "has no time-based retention policy, so no version is actually immutable"))
                    : violations.Concat(policies.SelectMany(p =>
                        Require(id, p, "properties.immutabilityPeriodSinceCreationInDays", v => v.AsInteger() >= 1, "at least 1 day")));
            });
        });

    public static PolicyRule AuditContainerRetentionAppendOnly { get; } = new(
        "audit-container-retention-append-only",
        "The `audit` container has a time-based retention policy that allows protected append writes only.",
        ctx =>
        {
            const string id = "audit-container-retention-append-only";
            var audits = ctx.OfType(Containers).Where(r => r.ShortName == "audit").ToList();
            if (audits.Count == 0)
            {
                return [new Violation(id, "(template)", "no `audit` blob container is declared")];
            }

            return audits.SelectMany(container =>
            {
                var policies = RetentionPolicies(ctx, container);
                if (policies.Count == 0)
                {
                    return [new Violation(id, container.ToString(), "has no immutability (time-based retention) policy")];
                }

                return policies.SelectMany(p =>
                    Require(id, p, "properties.immutabilityPeriodSinceCreationInDays", v => v.AsInteger() >= 1, "at least 1 day")
                        .Concat(RequireTrue(id, p, "properties.allowProtectedAppendWrites")));
            });
        });

    public static PolicyRule BlobContainersPrivate { get; } = new(
        "blob-containers-private",
        "Every blob container states publicAccess 'None' (no anonymous access, whatever the account allows).",
        ctx => ctx.OfType(Containers).SelectMany(c => RequireString("blob-containers-private", c, "properties.publicAccess", "None")));

    /// <summary>The claim-check container of durable jobs.</summary>
    public const string JobPayloadsContainer = "job-payloads";

    public static PolicyRule JobPayloadsExpire { get; } = new(
        "job-payloads-expire",
        "The `job-payloads` container has no immutability policy, and an enabled lifecycle rule of its account deletes its block blobs (and, where blob versioning is on, their earlier versions) a known number of days after they were written.",
        ctx =>
        {
            var containers = ctx.OfType(Containers).Where(r => r.ShortName == JobPayloadsContainer).ToList();
            return containers.Count == 0
                ? [new Violation("job-payloads-expire", "(template)", "no `job-payloads` blob container is declared")]
                : containers.SelectMany(c => CheckPayloadExpiry(ctx, c));
        });

    private static IEnumerable<Violation> CheckPayloadExpiry(PolicyContext ctx, DeployedResource container)
    {
        const string id = "job-payloads-expire";
        if (RetentionPolicies(ctx, container).Count > 0)
        {
            yield return new Violation(id, container.ToString(), "has an immutability policy, so expired payloads could not be deleted");
        }

        var account = container.Name.Split('/')[0];
        var rules = ctx.OfType(ManagementPolicies)
            .Where(p => string.Equals(p.Name, $"{account}/default", StringComparison.OrdinalIgnoreCase))
            .SelectMany(p => p.Body.Get("properties.policy.rules").Items())
            .Where(r => !r.Get("enabled").IsFalse() && r.Get("type").IsString("Lifecycle") && CoversPayloads(r.Get("definition.filters")))
            .ToList();
        if (rules.Count == 0)
        {
            yield return new Violation(id, container.ToString(), $"no enabled lifecycle rule of account '{account}' covers the block blobs under '{JobPayloadsContainer}/'");
            yield break;
        }

        if (!rules.Any(r => KnownDays(r.Get("definition.actions.baseBlob.delete.daysAfterCreationGreaterThan"))
                || KnownDays(r.Get("definition.actions.baseBlob.delete.daysAfterModificationGreaterThan"))))
        {
            yield return new Violation(id, container.ToString(), "no lifecycle rule deletes its blobs after a number of days known before deployment");
        }

        var versioning = ctx.OfType("Microsoft.Storage/storageAccounts/blobServices")
            .Any(s => string.Equals(s.Name, $"{account}/default", StringComparison.OrdinalIgnoreCase) && s.Body.Get("properties.isVersioningEnabled").IsTrue());
        if (versioning && !rules.Any(r => KnownDays(r.Get("definition.actions.version.delete.daysAfterCreationGreaterThan"))))
        {
            yield return new Violation(id, container.ToString(), $"blob versioning is on in '{account}' but no lifecycle rule deletes earlier versions, so every payload outlives its retention as a version");
        }
    }

    // No prefix filter covers every container; otherwise one prefix must cover the whole container.
    private static bool CoversPayloads(JsonNode? filters) =>
        filters.Get("blobTypes").Items().Any(t => t.IsString("blockBlob"))
        && (!filters.Get("prefixMatch").Items().Any()
            || filters.Get("prefixMatch").Items().Any(p => p.AsString() is { } prefix && $"{JobPayloadsContainer}/".StartsWith(prefix, StringComparison.Ordinal)));

    private static bool KnownDays(JsonNode? days) => days.AsInteger() is >= 0;

    public static PolicyRule AuditAccountsDeleteLocked { get; } = new(
        "audit-accounts-delete-locked",
        "Every storage account holding an `audit` or `audit-witness` container carries a CanNotDelete management lock (on the account, or on the resource group that deploys it).",
        ctx => ctx.OfType(StorageAccounts)
            .Where(account => ctx.OfType(Containers).Any(c => c.Name.StartsWith($"{account.Name}/", StringComparison.Ordinal) && AuditContainerNames.Contains(c.ShortName, StringComparer.Ordinal)))
            .Where(account => !ctx.OfType("Microsoft.Authorization/locks").Any(l =>
                l.Body.Get("properties.level").IsString("CanNotDelete")
                && (l.Scope == ResourceIdOf(account) || (l.Scope is null && l.DeploymentScope == DeploymentScope.ResourceGroup && l.DeploymentPath == account.DeploymentPath))))
            .Select(account => new Violation("audit-accounts-delete-locked", account.ToString(), "holds audit records but has no CanNotDelete lock: deleting the account (or its resource group) would erase them")));

    private const string DiagnosticSettings = "Microsoft.Insights/diagnosticSettings";
    private static readonly string[] StorageLogs = ["StorageRead", "StorageWrite", "StorageDelete"];

    public static PolicyRule DiagnosticSettingsToWorkspace { get; } = new(
        "diagnostic-settings-to-workspace",
        "Diagnostic settings send, to a Log Analytics workspace of the template: every storage account's blob reads, writes and deletes (and its table service's, where it declares tables), every Key Vault's AuditEvent and every Function App's FunctionAppLogs.",
        ctx =>
        {
            var tables = ctx.OfType("Microsoft.Storage/storageAccounts/tableServices/tables").ToList();
            var targets = ctx.OfType(StorageAccounts)
                .Select(a => (Resource: a, Id: $"{ResourceIdOf(a)}/blobServices/default", What: "blob service", Categories: StorageLogs))
                .Concat(ctx.OfType(StorageAccounts)
                    .Where(a => tables.Any(t => t.Name.StartsWith($"{a.Name}/", StringComparison.Ordinal)))
                    .Select(a => (Resource: a, Id: $"{ResourceIdOf(a)}/tableServices/default", What: "table service", Categories: StorageLogs)))
                .Concat(ctx.OfType("Microsoft.KeyVault/vaults").Select(v => (Resource: v, Id: ResourceIdOf(v), What: "vault", Categories: new[] { "AuditEvent" })))
                .Concat(ctx.OfType("Microsoft.Web/sites")
                    .Where(s => s.Body.Get("kind").AsString()?.Contains("functionapp", StringComparison.OrdinalIgnoreCase) == true)
                    .Select(s => (Resource: s, Id: ResourceIdOf(s), What: "Function App", Categories: new[] { "FunctionAppLogs" })));
            var workspaces = ctx.OfType("Microsoft.OperationalInsights/workspaces").Select(ResourceIdOf).ToHashSet(StringComparer.Ordinal);
            return targets.SelectMany(target =>
            {
                var sent = ctx.OfType(DiagnosticSettings)
                    .Where(d => d.Scope == target.Id && d.Body.Get("properties.workspaceId").AsString() is { } workspace && workspaces.Contains(workspace))
                    .SelectMany(d => d.Body.Get("properties.logs").Items())
                    .Where(l => l.Get("enabled").IsTrue())
                    .Select(l => l.Get("category").AsString())
                    .ToHashSet(StringComparer.Ordinal);
                var missing = target.Categories.Where(c => !sent.Contains(c)).ToList();
                return missing.Count == 0
                    ? []
                    : new[] { new Violation("diagnostic-settings-to-workspace", target.Resource.ToString(), $"its {target.What} sends no {string.Join(", ", missing)} to a workspace of this template") };
            });
        });

    /// <summary>The operations on a container's retention policy that the activity-log alert must watch.</summary>
    public static IReadOnlyList<string> RetentionPolicyOperations { get; } =
    [
        $"{ImmutabilityPolicies}/write",
        $"{ImmutabilityPolicies}/delete",
        $"{ImmutabilityPolicies}/lock/action",
        $"{ImmutabilityPolicies}/extend/action",
    ];

    public static PolicyRule RetentionChangeAlert { get; } = new(
        "retention-change-alert",
        "An enabled activity-log alert, scoped to the resource group or the subscription, fires on Administrative operations that write, delete, lock or extend a blob container's immutability policy.",
        ctx =>
        {
            const string id = "retention-change-alert";
            var alerts = ctx.OfType("Microsoft.Insights/activityLogAlerts")
                .Where(a => a.Body.Get("properties.enabled").IsTrue()
                    && a.Body.Get("properties.scopes").Items().Any(s => s.AsString() is { } scope && (scope == "«resourceGroup().id»" || scope == TemplateTerms.RgPrefix || scope == "«subscription().id»")))
                .ToList();
            if (alerts.Count == 0)
            {
                return [new Violation(id, "(template)", "no enabled activity-log alert watches the resource group or the subscription")];
            }

            var watched = alerts.SelectMany(a => WatchedOperations(a.Body.Get("properties.condition"))).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var missing = RetentionPolicyOperations.Where(o => !watched.Contains(o)).ToList();
            return missing.Count == 0
                ? []
                : [new Violation(id, alerts[0].ToString(), $"no alert fires on {string.Join(", ", missing)}")];
        });

    // operationName leaves of an alert condition (allOf, with anyOf below it); a leaf that narrows the category to
    // anything but Administrative makes the branch watch nothing.
    private static IEnumerable<string> WatchedOperations(JsonNode? condition)
    {
        var all = condition.Get("allOf").Items().ToList();
        if (all.Any(l => l.Get("field").IsString("category") && !l.Get("equals").IsString("Administrative")))
        {
            return [];
        }

        return all.SelectMany(l => l.Get("anyOf").Items().Append(l))
            .Where(l => l.Get("field").IsString("operationName") && l.Get("equals").AsString() is not null)
            .Select(l => l.Get("equals").AsString()!);
    }

    private static List<DeployedResource> RetentionPolicies(PolicyContext ctx, DeployedResource container) =>
        [.. ctx.OfType(ImmutabilityPolicies).Where(p => p.Name.StartsWith(container.Name + "/", StringComparison.OrdinalIgnoreCase))];
}
