using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;
using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateTerms;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// Data protection and audit as main.bicep deploys them (docs/deploy.md, "Data protection and audit"): the data
/// account's tables and their private endpoint, the accounts' delete locks, the alert on retention-policy changes,
/// diagnostic settings, the hooks' opt-in retention lock and the gateway's public origin for signed requests.
/// The role assignments themselves are in <see cref="RbacTableTests"/>.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed partial class DataProtectionTests(CompiledTemplateFixture fixture)
{
    private const string ImmutabilityPolicies = "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies";

    /// <summary>Option class file (under functions/) and property whose default names each table.</summary>
    public static TheoryData<string, string, string> TableOptions { get; } = new()
    {
        { "ServerlessServe.Core/Serving/Limits/LimitOptions.cs", "BudgetTable", "budgets" },
        { "ServerlessServe.Core/Security/ContainmentOptions.cs", "Table", "containment" },
        { "ServerlessServe.Core/Signatures/SignatureOptions.cs", "KeyTable", "requestkeys" },
        { "ServerlessServe.Core/Signatures/SignatureOptions.cs", "NonceTable", "requestnonces" },
        { "ServerlessServe.Core/Defenses/Extraction/ExtractionStoreOptions.cs", "TableName", "extraction" },
        { "ServerlessServe.Jobs/JobOptions.cs", "TrafficTable", "jobtraffic" },
    };

    [Theory]
    [MemberData(nameof(TableOptions))]
    public void DataTables_AreTheAppsOptionDefaults(string file, string property, string table)
    {
        var source = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "functions", file));
        var match = Regex.Match(source, $@"\b{property}\s*\{{\s*get;\s*set;\s*\}}\s*=\s*""([^""]+)""", RegexOptions.CultureInvariant);

        Assert.True(match.Success, $"{file} declares no default for {property}");
        Assert.Equal(table, match.Groups[1].Value);
        Assert.Contains(table, DataTables(fixture.WithVnet));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DataTables_AreExactlyTheSix_OnTheDataAccount(bool vnetEnabled)
    {
        var context = vnetEnabled ? fixture.WithVnet : fixture.WithoutVnet;

        Assert.Equal(["budgets", "containment", "extraction", "jobtraffic", "requestkeys", "requestnonces"], DataTables(context));
        Assert.All(context.OfType("Microsoft.Storage/storageAccounts/tableServices/tables"), t => Assert.StartsWith("stdata", t.Name, StringComparison.Ordinal));
    }

    [Fact]
    public void DataAccount_WithVnet_HasATablePrivateEndpointInTheTableZone()
    {
        var context = fixture.WithVnet;
        var data = Account(context, "stdata");

        var endpoint = Assert.Single(context.OfType("Microsoft.Network/privateEndpoints"), pe =>
            pe.Body.Get("properties.privateLinkServiceConnections").Items().Any(c =>
                c.Get("properties.privateLinkServiceId").IsString(Id(data))
                && c.Get("properties.groupIds").Items().Select(g => g.Render()).SequenceEqual(["table"])));
        Assert.EndsWith("/subnets/snet-private-endpoints", endpoint.Body.Get("properties.subnet.id").AsString(), StringComparison.Ordinal);
        var zoneGroup = Assert.Single(context.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups"), g => g.Name == $"{endpoint.Name}/default");
        var zoneId = Assert.Single(zoneGroup.Body.Get("properties.privateDnsZoneConfigs").Items()).Get("properties.privateDnsZoneId").AsString();
        var zone = Assert.Single(context.OfType("Microsoft.Network/privateDnsZones"), z => Id(z) == zoneId);
        Assert.Equal("privatelink.table.«environment().suffixes.storage»", zone.Name);
    }

    [Fact]
    public void GatewayTables_AreReachedOnTheDataAccountsTableEndpoint_DerivedFromItsBlobSetting()
    {
        // StorageOptions.TableEndpoint reads `.blob.` as `.table.` in ServerlessServe__Storage__BlobServiceUri: the setting
        // must be the data account's blob endpoint (not a custom one) for the derivation to land on its table endpoint.
        var context = fixture.WithVnet;
        var settings = Settings(context, Sites.IsGateway);

        Assert.Equal(ReferenceTo(Id(Account(context, "stdata")), "primaryEndpoints.blob"), Unversioned(settings["ServerlessServe__Storage__BlobServiceUri"]));
        Assert.DoesNotContain("ServerlessServe__Storage__TableServiceUri", settings.Keys);
        Assert.DoesNotContain("ServerlessServe__Storage__ConnectionString", settings.Keys);
    }

    [Theory]
    [InlineData("stdata")]
    [InlineData("stwit")]
    public void AuditAccounts_CarryACanNotDeleteLock(string prefix)
    {
        var context = fixture.WithVnet;
        var account = Account(context, prefix);

        var locks = context.OfType("Microsoft.Authorization/locks").Where(l => l.Scope == Id(account)).ToList();

        var accountLock = Assert.Single(locks);
        Assert.Equal("CanNotDelete", accountLock.Body.Get("properties.level").AsString());
        Assert.Equal($"lock-{account.Name}-cannot-delete", accountLock.Name);
        // Only these two accounts: the runtime account holds nothing that outlives a redeployment.
        Assert.Equal(2, context.OfType("Microsoft.Authorization/locks").Count());
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("audit-owner@example.com", 1)]
    public void RetentionChangeAlert_WatchesTheResourceGroup_WithAnActionGroupOnlyWhenAnEmailIsGiven(string email, int actionGroups)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["auditAlertEmail"] = email;
        var context = new PolicyContext(TemplateEvaluator.Evaluate(fixture.Template, parameters), VnetEnabled: true);

        var alert = Assert.Single(context.OfType("Microsoft.Insights/activityLogAlerts"));
        Assert.Equal("global", alert.Body.Get("location").AsString());
        Assert.True(alert.Body.Get("properties.enabled").IsTrue());
        Assert.Equal(["«resourceGroup().id»"], alert.Body.Get("properties.scopes").Items().Select(s => s.Render()));
        var allOf = alert.Body.Get("properties.condition.allOf").Items().ToList();
        Assert.Contains(allOf, l => l.Get("field").IsString("category") && l.Get("equals").IsString("Administrative"));
        var operations = allOf.SelectMany(l => l.Get("anyOf").Items()).Select(l => l.Get("equals").Render()).ToList();
        Assert.Equal([.. SecurityPolicy.RetentionPolicyOperations, "Microsoft.Authorization/locks/delete"], operations);

        var groups = context.OfType("Microsoft.Insights/actionGroups").ToList();
        Assert.Equal(actionGroups, groups.Count);
        Assert.Equal(actionGroups, alert.Body.Get("properties.actions.actionGroups").Items().Count());
        if (actionGroups == 1)
        {
            var receiver = Assert.Single(groups[0].Body.Get("properties.emailReceivers").Items());
            Assert.Equal(email, receiver.Get("emailAddress").AsString());
            Assert.True(groups[0].Body.Get("properties.enabled").IsTrue());
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DiagnosticSettings_AreExactlyTheseIntoTheTemplatesWorkspace(bool vnetEnabled)
    {
        var context = vnetEnabled ? fixture.WithVnet : fixture.WithoutVnet;
        var workspace = Id(Assert.Single(context.OfType("Microsoft.OperationalInsights/workspaces")));
        string[] storage = ["StorageDelete", "StorageRead", "StorageWrite"];

        // The Container Apps environment's own setting is inference.bicep's (not a data-protection concern).
        var settings = context.OfType("Microsoft.Insights/diagnosticSettings")
            .Where(d => !d.Scope!.Contains("/providers/Microsoft.App/", StringComparison.Ordinal))
            .Select(d =>
            {
                Assert.Equal(workspace, d.Body.Get("properties.workspaceId").AsString());
                Assert.All(d.Body.Get("properties.logs").Items(), l => Assert.True(l.Get("enabled").IsTrue()));
                return (Scope: d.Scope![(RgPrefix.Length + "/providers/".Length)..], Categories: string.Join(",", d.Body.Get("properties.logs").Items().Select(l => l.Get("category").Render()).Order(StringComparer.Ordinal)));
            })
            .Select(s => (Scope: Regex.Replace(s.Scope, "«[^»]*»", "*"), s.Categories))
            .Order()
            .ToList();

        Assert.Equal(
            [
                ("Microsoft.KeyVault/vaults/kv-*", "AuditEvent"),
                ("Microsoft.Storage/storageAccounts/stdata*/blobServices/default", string.Join(",", storage)),
                ("Microsoft.Storage/storageAccounts/stdata*/tableServices/default", string.Join(",", storage)),
                ("Microsoft.Storage/storageAccounts/strt*/blobServices/default", string.Join(",", storage)),
                ("Microsoft.Storage/storageAccounts/stwit*/blobServices/default", string.Join(",", storage)),
                ("Microsoft.Web/sites/func-admin-*", "FunctionAppLogs"),
                ("Microsoft.Web/sites/func-gateway-*", "FunctionAppLogs"),
            ],
            settings);
    }

    [Theory]
    [InlineData("", "https://func-gateway-«toLower(uniqueString(subscription().id, 'policytest', 'westeurope'))».azurewebsites.net")]
    [InlineData("https://serving.example.com", "https://serving.example.com")]
    public void Gateway_ChecksSignedRequestsAgainstItsPublicOrigin(string given, string expected)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["gatewayPublicBaseUrl"] = given;
        var context = new PolicyContext(TemplateEvaluator.Evaluate(fixture.Template, parameters), VnetEnabled: true);
        var site = Assert.Single(context.OfType("Microsoft.Web/sites"), Sites.IsGateway);

        Assert.Equal(expected, Settings(context, Sites.IsGateway)["ServerlessServe__Signatures__PublicBaseUrl"]);
        if (given.Length == 0)
        {
            // The default host name of a site without autoGeneratedDomainNameLabelScope: <name>.azurewebsites.net.
            Assert.Equal($"https://{site.Name}.azurewebsites.net", expected);
            Assert.Null(site.Body.Get("properties.autoGeneratedDomainNameLabelScope"));
        }

        // The admin app verifies no signed request.
        Assert.DoesNotContain(Settings(context, Sites.IsAdmin).Keys, k => k.StartsWith("ServerlessServe__Signatures__", StringComparison.Ordinal));
    }

    [Fact]
    public void DataProtectionParameters_DefaultToNone_AndComeFromTheAzdEnvironment()
    {
        var parameters = fixture.Template.Get("parameters")!;
        var file = JsonNode.Parse(File.ReadAllText(BicepCli.InfraPath("main.parameters.json")))!.Get("parameters")!;

        foreach (var (name, env) in new[]
                 {
                     ("auditorPrincipalId", "${SERVERLESSSERVE_AUDITOR_PRINCIPAL_ID=}"),
                     ("auditorPrincipalType", "${SERVERLESSSERVE_AUDITOR_PRINCIPAL_TYPE=Group}"),
                     ("auditAlertEmail", "${SERVERLESSSERVE_AUDIT_ALERT_EMAIL=}"),
                     ("gatewayPublicBaseUrl", "${SERVERLESSSERVE_GATEWAY_PUBLIC_BASE_URL=}"),
                 })
        {
            Assert.Equal(env, file.Prop(name).Get("value").AsString());
            Assert.Equal(name == "auditorPrincipalType" ? "Group" : "", parameters.Prop(name).Get("defaultValue").AsString());
        }
    }

    [Theory]
    [InlineData("sh")]
    [InlineData("ps1")]
    public void PostprovisionHook_LocksBothRetentionPolicies_OnlyWhenAskedAndOnlyIfUnlocked(string ext)
    {
        var hook = File.ReadAllText(BicepCli.InfraPath(Path.Combine("hooks", $"postprovision.{ext}")));

        Assert.Contains("SERVERLESSSERVE_LOCK_AUDIT_RETENTION", hook, StringComparison.Ordinal);
        Assert.Contains("az storage container immutability-policy show", hook, StringComparison.Ordinal);
        Assert.Contains("az storage container immutability-policy lock", hook, StringComparison.Ordinal);
        Assert.Contains("--if-match", hook, StringComparison.Ordinal);
        Assert.Contains("Locked", hook, StringComparison.Ordinal);
        // Both containers, by the names provisioning output (with the template's defaults as fallback).
        foreach (var value in new[] { "AZURE_STORAGE_ACCOUNT_NAME", "SERVERLESSSERVE_AUDIT_CONTAINER", "SERVERLESSSERVE_AUDIT_WITNESS_ACCOUNT_NAME", "SERVERLESSSERVE_AUDIT_WITNESS_CONTAINER", "AZURE_RESOURCE_GROUP" })
        {
            Assert.Contains(value, hook, StringComparison.Ordinal);
        }

        // Provisioning outputs what the hook reads.
        var outputs = fixture.Template.Get("outputs")!.AsObject().Select(o => o.Key).ToList();
        Assert.Contains("SERVERLESSSERVE_AUDIT_CONTAINER", outputs);
        Assert.Contains("SERVERLESSSERVE_AUDIT_WITNESS_CONTAINER", outputs);
        Assert.Contains("SERVERLESSSERVE_SIGNATURES_PUBLIC_BASE_URL", outputs);
    }

    /// <summary>
    /// Once the hook has locked them, the audit and witness retention policies must not be sent again: Azure refuses a
    /// create or update of a locked policy (only its extend action), so every later provision would fail, and each
    /// re-send fires the retention-change alert. Before 2026-12-07 the template declared them unconditionally.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AuditRetentionLocked_LeavesTheAuditAndWitnessPoliciesOut_AndNothingElse(bool vnetEnabled)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled);
        parameters["auditRetentionLocked"] = true;
        var locked = new PolicyContext(TemplateEvaluator.Evaluate(fixture.Template, parameters), vnetEnabled);
        var unlocked = vnetEnabled ? fixture.WithVnet : fixture.WithoutVnet;

        Assert.Equal(["audit", "audit-witness", "models"], RetentionPolicyContainers(unlocked));
        // The models policy is never locked (the hook locks audit and audit-witness only), so the template keeps it.
        Assert.Equal(["models"], RetentionPolicyContainers(locked));
        // The containers, their roles and the alert stay exactly as they were: only the two policies are left out.
        Assert.Equal(
            unlocked.Resources.Where(r => !r.IsType(ImmutabilityPolicies)).Select(r => $"{r.Type} {r.Name}"),
            locked.Resources.Where(r => !r.IsType(ImmutabilityPolicies)).Select(r => $"{r.Type} {r.Name}"));
        // Every rule still holds but the one that wants the template itself to declare `audit`'s policy: after the lock
        // it lives in Azure, locked, outside the template.
        Assert.All(SecurityPolicy.Rules.Where(r => r.Id != SecurityPolicy.AuditContainerRetentionAppendOnly.Id), rule => Assert.Empty(rule.Evaluate(locked)));
        var missing = Assert.Single(SecurityPolicy.AuditContainerRetentionAppendOnly.Evaluate(locked));
        Assert.Contains("has no immutability (time-based retention) policy", missing.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void AuditRetentionLocked_DefaultsToFalse_AndComesFromTheVariableThePostprovisionHookSets()
    {
        var parameter = fixture.Template.Get("parameters")!.Prop("auditRetentionLocked");
        var file = JsonNode.Parse(File.ReadAllText(BicepCli.InfraPath("main.parameters.json")))!.Get("parameters")!;

        Assert.NotNull(parameter);
        Assert.Equal("bool", parameter.Get("type").AsString());
        Assert.True(parameter.Get("defaultValue").IsFalse());
        Assert.Equal("${SERVERLESSSERVE_AUDIT_RETENTION_LOCKED=false}", file.Prop("auditRetentionLocked").Get("value").AsString());
        foreach (var ext in new[] { "sh", "ps1" })
        {
            Assert.Contains("SERVERLESSSERVE_AUDIT_RETENTION_LOCKED", File.ReadAllText(BicepCli.InfraPath(Path.Combine("hooks", $"postprovision.{ext}"))), StringComparison.Ordinal);
        }
    }

    /// <summary>The containers (short names) that carry an immutability policy, sorted.</summary>
    private static List<string> RetentionPolicyContainers(PolicyContext context) =>
        [.. context.OfType(ImmutabilityPolicies).Select(p => p.Name.Split('/')[^2]).Order(StringComparer.Ordinal)];

    private static List<string> DataTables(PolicyContext context) =>
        [.. context.OfType("Microsoft.Storage/storageAccounts/tableServices/tables").Select(t => t.ShortName).Order(StringComparer.Ordinal)];

    private static DeployedResource Account(PolicyContext context, string prefix) =>
        Assert.Single(context.OfType("Microsoft.Storage/storageAccounts"), a => a.Name.StartsWith(prefix, StringComparison.Ordinal));

    private static Dictionary<string, string> Settings(PolicyContext context, Func<DeployedResource, bool> site) =>
        Assert.Single(context.OfType("Microsoft.Web/sites"), r => site(r)).Body.Get("properties.siteConfig.appSettings").Items()
            .ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);
}
