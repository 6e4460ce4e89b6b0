using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

public static partial class SecurityPolicy
{
    private const string StorageAccounts = "Microsoft.Storage/storageAccounts";
    private const string Containers = "Microsoft.Storage/storageAccounts/blobServices/containers";
    private const string ImmutabilityPolicies = "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies";

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

    private static List<DeployedResource> RetentionPolicies(PolicyContext ctx, DeployedResource container) =>
        [.. ctx.OfType(ImmutabilityPolicies).Where(p => p.Name.StartsWith(container.Name + "/", StringComparison.OrdinalIgnoreCase))];
}
