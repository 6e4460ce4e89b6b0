using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateTerms;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// The exact principal → role → scope table of the compiled template: every role assignment, who holds it, which
/// built-in role, on which resource, and whether it carries the no-delete condition. Any added, removed, widened or
/// changed assignment fails here; docs/deploy.md ("Identity picture", "Data protection and audit") is the prose of it.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed class RbacTableTests(CompiledTemplateFixture fixture)
{
    private const string Publisher = "00000000-0000-0000-0000-0000000000aa";
    private const string Auditor = "00000000-0000-0000-0000-0000000000ad";
    private const string Token = "<token>";
    private const string NoDelete = "no-delete";
    private const string NoAdminPackageWrites = "no-admin-package-writes";

    private const string Data = $"Microsoft.Storage/storageAccounts/stdata{Token}";
    private const string Runtime = $"Microsoft.Storage/storageAccounts/strt{Token}";
    private const string Witness = $"Microsoft.Storage/storageAccounts/stwit{Token}";
    private const string Vault = $"Microsoft.KeyVault/vaults/kv-{Token}";
    private const string Insights = $"Microsoft.Insights/components/appi-{Token}";
    private const string Registry = $"Microsoft.ContainerRegistry/registries/cr{Token}";

    private const string BlobReader = "Storage Blob Data Reader";
    private const string BlobContributor = "Storage Blob Data Contributor";
    private const string QueueContributor = "Storage Queue Data Contributor";
    private const string TableContributor = "Storage Table Data Contributor";

    /// <summary>The whole table with an auditor given; without one, the same less the auditor's two rows.</summary>
    private static readonly (string Principal, string Role, string Scope, string Condition)[] Expected =
    [
        ("admin", BlobContributor, $"{Data}/blobServices/default/containers/audit", NoDelete),
        ("admin", BlobContributor, $"{Data}/blobServices/default/containers/models", ""),
        ("admin", TableContributor, $"{Data}/tableServices/default/tables/containment", ""),
        ("admin", TableContributor, $"{Data}/tableServices/default/tables/requestkeys", ""),
        ("admin", BlobContributor, $"{Runtime}/blobServices/default/containers/app-package-admin", ""),
        ("admin", BlobContributor, $"{Runtime}/blobServices/default/containers/azure-webjobs-hosts", ""),
        ("admin", "Key Vault Secrets User", Vault, ""),
        ("admin", "Monitoring Metrics Publisher", Insights, ""),
        ("auditor", BlobReader, $"{Data}/blobServices/default/containers/audit", ""),
        ("auditor", BlobReader, $"{Witness}/blobServices/default/containers/audit-witness", ""),
        ("gateway", BlobContributor, $"{Data}/blobServices/default/containers/audit", NoDelete),
        ("gateway", BlobContributor, $"{Data}/blobServices/default/containers/job-payloads", ""),
        ("gateway", BlobReader, $"{Data}/blobServices/default/containers/models", ""),
        ("gateway", TableContributor, $"{Data}/tableServices/default/tables/budgets", ""),
        ("gateway", TableContributor, $"{Data}/tableServices/default/tables/containment", ""),
        ("gateway", TableContributor, $"{Data}/tableServices/default/tables/extraction", ""),
        ("gateway", TableContributor, $"{Data}/tableServices/default/tables/jobtraffic", ""),
        ("gateway", TableContributor, $"{Data}/tableServices/default/tables/requestkeys", ""),
        ("gateway", TableContributor, $"{Data}/tableServices/default/tables/requestnonces", ""),
        ("gateway", BlobContributor, Runtime, NoAdminPackageWrites),
        ("gateway", QueueContributor, Runtime, ""),
        ("gateway", TableContributor, Runtime, ""),
        ("gateway", "Key Vault Secrets User", Vault, ""),
        ("gateway", "Monitoring Metrics Publisher", Insights, ""),
        ("inference", "AcrPull", Registry, ""),
        ("inference", BlobContributor, $"{Runtime}/blobServices/default/containers/azure-webjobs-hosts", ""),
        ("inference", BlobReader, $"{Data}/blobServices/default/containers/models", ""),
        ("inference", "Monitoring Metrics Publisher", Insights, ""),
        ("publish", "AcrPull", Registry, ""),
        ("publish", BlobContributor, $"{Data}/blobServices/default/containers/models", ""),
        ("publisher", BlobContributor, $"{Data}/blobServices/default/containers/models", ""),
        ("witness", BlobContributor, $"{Witness}/blobServices/default/containers/audit-witness", NoDelete),
    ];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RoleAssignments_AreExactlyThePrincipalRoleScopeTable_WithAnAuditor(bool vnetEnabled)
    {
        // The network posture changes no assignment: the same table with the VNet and without.
        var rows = Table(Evaluate(vnetEnabled, Auditor));

        Assert.Equal(Expected.Order(), rows);
    }

    [Fact]
    public void RoleAssignments_WithoutAnAuditor_AreTheTableLessTheAuditorsRows()
    {
        var rows = Table(fixture.WithVnet);

        Assert.Equal(Expected.Where(r => r.Principal != "auditor").Order(), rows);
    }

    [Fact]
    public void RoleAssignments_AreNamedByScopePrincipalAndRole_AndTypedByPrincipal()
    {
        var context = Evaluate(vnetEnabled: true, Auditor);
        var identities = Identities(context);

        Assert.All(context.OfType("Microsoft.Authorization/roleAssignments"), a =>
        {
            var principal = PrincipalOf(a, identities);
            var key = identities.SingleOrDefault(i => i.Value == principal).Key is { } identity && principal is not ("publisher" or "auditor")
                ? identity
                : principal == "publisher" ? Publisher : Auditor;
            Assert.Equal($"«guid('{Quoted(a.Scope!)}', '{Quoted(key)}', '{RoleGuid(a)}')»", a.Name);
            Assert.Equal(
                principal switch
                {
                    "publisher" => "User",
                    "auditor" => "Group",
                    _ => "ServicePrincipal",
                },
                a.Body.Get("properties.principalType").AsString());
        });
    }

    /// <summary>
    /// The Internet-facing gateway cannot write the admin app's deployment package (it would run as the admin identity at
    /// the next start), and the admin identity holds nothing of the runtime account but its package and the host locks:
    /// not the gateway's task hub, queues or host keys. (Found in review: both held all three data roles account-wide.)
    /// </summary>
    [Fact]
    public void RuntimeAccount_AdminHoldsOnlyItsPackageAndTheLocks_GatewayCannotWriteThePackage()
    {
        var rows = Table(fixture.WithVnet);

        Assert.Equal(
            [$"{Runtime}/blobServices/default/containers/app-package-admin", $"{Runtime}/blobServices/default/containers/azure-webjobs-hosts"],
            rows.Where(r => r.Principal == "admin" && r.Scope.StartsWith(Runtime, StringComparison.Ordinal)).Select(r => r.Scope).Order(StringComparer.Ordinal));
        Assert.Equal(NoAdminPackageWrites, Assert.Single(rows, r => r.Principal == "gateway" && r.Scope == Runtime && r.Role == BlobContributor).Condition);
    }

    [Fact]
    public void Gateway_HoldsNoBlobContributorAccountWide_AndCannotDeleteAudit()
    {
        var rows = Table(fixture.WithVnet).Where(r => r.Principal == "gateway").ToList();

        Assert.DoesNotContain(rows, r => r.Scope == Data && r.Role.StartsWith("Storage Blob", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.Scope == Data || r.Scope == $"{Data}/blobServices/default" || r.Scope == $"{Data}/tableServices/default");
        var audit = Assert.Single(rows, r => r.Scope.EndsWith("/containers/audit", StringComparison.Ordinal));
        Assert.Equal(NoDelete, audit.Condition);
    }

    private PolicyContext Evaluate(bool vnetEnabled, string auditor)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled);
        parameters["auditorPrincipalId"] = auditor;
        return new PolicyContext(TemplateEvaluator.Evaluate(fixture.Template, parameters), vnetEnabled);
    }

    /// <summary>(principal, role name, scope relative to the resource group with the resource token as &lt;token&gt;, condition), ordered.</summary>
    private static List<(string Principal, string Role, string Scope, string Condition)> Table(PolicyContext context)
    {
        var identities = Identities(context);
        return
        [
            .. context.OfType("Microsoft.Authorization/roleAssignments")
                .Select(a => (
                    Principal: PrincipalOf(a, identities),
                    Role: SecurityPolicy.AllowedRoles.TryGetValue(RoleGuid(a), out var name) ? name : RoleGuid(a),
                    Scope: Relative(a.Scope),
                    Condition: ConditionOf(a)))
                .Order(),
        ];
    }

    /// <summary>Identity resource ID → short name (gateway, inference, admin, witness, publish: the publish job's).</summary>
    private static Dictionary<string, string> Identities(PolicyContext context) =>
        new[] { "gateway", "inference", "admin", "witness", "publish" }.ToDictionary(n => IdentityId(context, $"id-{n}-"), n => n, StringComparer.Ordinal);

    private static string PrincipalOf(DeployedResource assignment, Dictionary<string, string> identities)
    {
        var principal = Unversioned(assignment.Body.Get("properties.principalId").AsString()!);
        return principal switch
        {
            Publisher => "publisher",
            Auditor => "auditor",
            _ => identities.SingleOrDefault(i => ReferenceTo(i.Key, "principalId") == principal).Value ?? principal,
        };
    }

    private static string ConditionOf(DeployedResource assignment)
    {
        var condition = assignment.Body.Get("properties.condition").AsString();
        if (condition is null)
        {
            Assert.Null(assignment.Body.Get("properties.conditionVersion"));
            return "";
        }

        Assert.Equal("2.0", assignment.Body.Get("properties.conditionVersion").AsString());
        if (condition.Contains("StringNotEquals", StringComparison.Ordinal))
        {
            // Writes, creates and deletes refused in the admin app's deployment package container, and only there.
            Assert.Equal(
                [
                    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                    "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
                ],
                condition.Split("!(ActionMatches{'", StringSplitOptions.None).Skip(1).Select(part => part[..part.IndexOf('\'', StringComparison.Ordinal)]));
            Assert.Contains("@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals 'app-package-admin'", condition, StringComparison.Ordinal);
            return NoAdminPackageWrites;
        }

        Assert.Equal(
            [
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/deleteBlobVersion/action",
                "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/permanentDelete/action",
            ],
            condition.Split("!(ActionMatches{'", StringSplitOptions.None).Skip(1).Select(part => part[..part.IndexOf('\'', StringComparison.Ordinal)]));
        Assert.DoesNotContain(" OR ", condition, StringComparison.Ordinal);
        return NoDelete;
    }

    private static string Relative(string? scope)
    {
        Assert.NotNull(scope);
        Assert.StartsWith($"{RgPrefix}/providers/", scope, StringComparison.Ordinal);
        return scope[$"{RgPrefix}/providers/".Length..].Replace("«toLower(uniqueString(subscription().id, 'policytest', 'westeurope'))»", Token, StringComparison.Ordinal);
    }
}
