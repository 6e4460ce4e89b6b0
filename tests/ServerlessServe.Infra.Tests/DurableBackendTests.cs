using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;
using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateTerms;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// The Durable Functions backend of the gateway's jobs (Azure Storage provider on the runtime account) and
/// the claim check of job payloads (the `job-payloads` container in the data account), as main.bicep
/// deploys them. docs/durable-backend.md says why each piece is there.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed partial class DurableBackendTests(CompiledTemplateFixture fixture)
{
    private const string TaskHub = "serverlessservejobs";
    private const string PayloadContainer = "job-payloads";

    private static readonly Dictionary<string, string> DataRoles = new(StringComparer.Ordinal)
    {
        ["blob"] = "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        ["queue"] = "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        ["table"] = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TaskHubConnection_GatewaySettings_NameTheRuntimeAccountWithTheGatewayIdentity(bool vnetEnabled)
    {
        var context = Context(vnetEnabled);
        var settings = GatewaySettings(context);
        var runtime = RuntimeAccount(context);
        var identity = GatewayIdentityId(context);

        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.DoesNotContain(settings.Keys, k => k.StartsWith("AzureWebJobsStorage__accountName", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal(ReferenceTo(identity, "clientId"), Unversioned(settings["AzureWebJobsStorage__clientId"]));
        foreach (var service in DataRoles.Keys)
        {
            Assert.Equal(ReferenceTo(Id(runtime), $"primaryEndpoints.{service}"), Unversioned(settings[$"AzureWebJobsStorage__{service}ServiceUri"]));
        }

        // Its own identity, and the audit witness's (used for the witness account only, AuditWitnessTests).
        var site = Assert.Single(context.OfType("Microsoft.Web/sites"), Sites.IsGateway);
        Assert.Equal(
            new[] { identity, IdentityId(context, "id-witness-") }.Order(StringComparer.Ordinal),
            site.Body.Get("identity.userAssignedIdentities")!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(identity, site.Body.Get("properties.keyVaultReferenceIdentity").AsString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TaskHubAccount_RefusesSharedKeysAndDefaultsToEntraId(bool vnetEnabled)
    {
        var runtime = RuntimeAccount(Context(vnetEnabled));

        Assert.True(runtime.Body.Get("properties.allowSharedKeyAccess").IsFalse());
        Assert.True(runtime.Body.Get("properties.defaultToOAuthAuthentication").IsTrue());
        Assert.True(runtime.Body.Get("properties.allowBlobPublicAccess").IsFalse());
    }

    [Fact]
    public void CompiledTemplate_NeverAsksForKeysOrSas()
    {
        // No key is read, no SAS minted and no keyed connection string built, anywhere in the templates.
        Assert.DoesNotMatch(KeyFunctions(), fixture.Build.Output);
    }

    [Fact]
    public void TaskHubAccount_Roles_AreExactlyTheFunctionAppsBlobQueueTableDataContributorOnTheAccount()
    {
        var context = fixture.WithVnet;
        var runtimeId = Id(RuntimeAccount(context));

        // Every assignment that reaches the account: on it, below it, or on anything above it. The gateway's (its host
        // and the task hub), the admin app's (its deployment package and host locks only) and the inference host's lock
        // container; nobody else's.
        var reaching = context.OfType("Microsoft.Authorization/roleAssignments").Where(a => Reaches(a.Scope, runtimeId)).ToList();

        var gateway = GatewayIdentityId(context);
        var own = reaching.Where(a => Unversioned(a.Body.Get("properties.principalId").AsString()!) == ReferenceTo(gateway, "principalId")).ToList();
        Assert.Equal(DataRoles.Values.Order(StringComparer.Ordinal), own.Select(RoleGuid).Order(StringComparer.Ordinal));
        Assert.All(own, a =>
        {
            Assert.Equal(runtimeId, a.Scope);
            Assert.Equal("ServicePrincipal", a.Body.Get("properties.principalType").AsString());
            Assert.Equal($"«guid('{Quoted(runtimeId)}', '{Quoted(gateway)}', '{RoleGuid(a)}')»", a.Name);
        });

        // The admin host: its package and its primary-host lease, Blob Data Contributor on each container alone.
        var admin = IdentityId(context, "id-admin-");
        var adminRoles = reaching.Where(a => Unversioned(a.Body.Get("properties.principalId").AsString()!) == ReferenceTo(admin, "principalId")).ToList();
        Assert.Equal(
            [$"{runtimeId}/blobServices/default/containers/app-package-admin", $"{runtimeId}/blobServices/default/containers/azure-webjobs-hosts"],
            adminRoles.Select(a => a.Scope!).Order(StringComparer.Ordinal));
        Assert.All(adminRoles, a => Assert.Equal(DataRoles["blob"], RoleGuid(a)));

        // And the inference host's primary-host lease: Blob Data Contributor on the lock container alone.
        var inference = IdentityId(context, "id-inference-");
        var locks = Assert.Single(reaching, a => Unversioned(a.Body.Get("properties.principalId").AsString()!) == ReferenceTo(inference, "principalId"));
        Assert.Equal($"{runtimeId}/blobServices/default/containers/azure-webjobs-hosts", locks.Scope);
        Assert.Equal(DataRoles["blob"], RoleGuid(locks));

        Assert.Equal(DataRoles.Count + 3, reaching.Count);
    }

    [Theory]
    [InlineData("blob")]
    [InlineData("queue")]
    [InlineData("table")]
    public void TaskHubAccount_WithVnet_IsReachedThroughAPrivateEndpointRegisteredInItsLinkedZone(string service)
    {
        var context = fixture.WithVnet;
        var runtime = RuntimeAccount(context);
        var vnet = Assert.Single(context.OfType("Microsoft.Network/virtualNetworks"));

        var endpoint = Assert.Single(context.OfType("Microsoft.Network/privateEndpoints"), pe =>
            pe.Body.Get("properties.privateLinkServiceConnections").Items().Any(c =>
                c.Get("properties.privateLinkServiceId").IsString(Id(runtime))
                && c.Get("properties.groupIds").Items().Select(g => g.Render()).SequenceEqual([service])));
        Assert.Equal($"{Id(vnet)}/subnets/snet-private-endpoints", endpoint.Body.Get("properties.subnet.id").AsString());

        var zoneGroup = Assert.Single(context.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups"), g => g.Name == $"{endpoint.Name}/default");
        var zoneId = Assert.Single(zoneGroup.Body.Get("properties.privateDnsZoneConfigs").Items()).Get("properties.privateDnsZoneId").AsString();
        var zone = Assert.Single(context.OfType("Microsoft.Network/privateDnsZones"), z => Id(z) == zoneId);
        Assert.Equal($"privatelink.{service}.«environment().suffixes.storage»", zone.Name);

        var link = Assert.Single(context.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks"), l => l.Name.StartsWith($"{zone.Name}/", StringComparison.Ordinal));
        Assert.Equal(Id(vnet), link.Body.Get("properties.virtualNetwork.id").AsString());
        Assert.True(link.Body.Get("properties.registrationEnabled").IsFalse());

        Assert.Equal("Disabled", runtime.Body.Get("properties.publicNetworkAccess").AsString());
        Assert.Equal("Deny", runtime.Body.Get("properties.networkAcls.defaultAction").AsString());
    }

    [Fact]
    public void TaskHubAccount_WithoutVnet_HasNoPrivateEndpointsOrZones()
    {
        var context = fixture.WithoutVnet;

        Assert.Empty(context.OfType("Microsoft.Network/privateEndpoints"));
        Assert.Empty(context.OfType("Microsoft.Network/privateDnsZones"));
        Assert.Equal("Enabled", RuntimeAccount(context).Body.Get("properties.publicNetworkAccess").AsString());
    }

    [Fact]
    public void PayloadContainer_IsPrivateInTheDataAccountWithoutImmutability()
    {
        var context = fixture.WithVnet;
        var data = DataAccount(context);

        var container = Assert.Single(context.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"), c => c.ShortName == PayloadContainer);

        Assert.Equal($"{data.Name}/default/{PayloadContainer}", container.Name);
        Assert.Equal("None", container.Body.Get("properties.publicAccess").AsString());
        Assert.Null(container.Body.Get("properties.immutableStorageWithVersioning"));
        // A retention policy would make expired payloads undeletable.
        Assert.DoesNotContain(context.OfType("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies"), p => p.Name.StartsWith($"{container.Name}/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(7, 7)]
    [InlineData(30, 30)]
    [InlineData(365, 365)]
    public void PayloadLifecycle_DeletesBlobsAndVersionsAfterJobRetentionDays_AndResultRetentionAgrees(int? given, int days)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        if (given is { } value)
        {
            parameters["jobRetentionDays"] = value;
        }

        var context = new PolicyContext(TemplateEvaluator.Evaluate(fixture.Template, parameters), VnetEnabled: true);
        var data = DataAccount(context);

        var policy = Assert.Single(context.OfType("Microsoft.Storage/storageAccounts/managementPolicies"));
        Assert.Equal($"{data.Name}/default", policy.Name);
        var rule = Assert.Single(policy.Body.Get("properties.policy.rules").Items());
        Assert.True(rule.Get("enabled").IsTrue());
        Assert.Equal("Lifecycle", rule.Get("type").AsString());
        Assert.Equal(["blockBlob"], rule.Get("definition.filters.blobTypes").Items().Select(t => t.Render()));
        Assert.Equal([$"{PayloadContainer}/"], rule.Get("definition.filters.prefixMatch").Items().Select(p => p.Render()));
        // A day past the results' retention: a readable result never points at a deleted payload.
        Assert.Equal(days + 1, rule.Get("definition.actions.baseBlob.delete.daysAfterCreationGreaterThan").AsInteger());
        Assert.Equal(days + 1, rule.Get("definition.actions.version.delete.daysAfterCreationGreaterThan").AsInteger());
        // Versions are what blob versioning (on in this account) leaves behind a deleted blob.
        Assert.True(Assert.Single(context.OfType("Microsoft.Storage/storageAccounts/blobServices"), s => s.Name == $"{data.Name}/default").Body.Get("properties.isVersioningEnabled").IsTrue());

        var retention = GatewaySettings(context)["ServerlessServe__Jobs__ResultRetention"];
        Assert.Equal(TimeSpan.FromDays(days), TimeSpan.ParseExact(retention, "c", CultureInfo.InvariantCulture));
        Assert.Equal($"{days}.00:00:00", retention);
    }

    [Fact]
    public void JobRetentionDays_IsOneTo365DefaultingTo1_AndSetFromTheAzdEnvironment()
    {
        var parameter = fixture.Template.Get("parameters")!.Prop("jobRetentionDays");

        Assert.Equal("int", parameter.Get("type").AsString());
        Assert.Equal(1, parameter.Get("defaultValue").AsInteger());
        Assert.Equal(1, parameter.Get("minValue").AsInteger());
        Assert.Equal(365, parameter.Get("maxValue").AsInteger());
        var file = JsonNode.Parse(File.ReadAllText(BicepCli.InfraPath("main.parameters.json")))!;
        Assert.Equal("${SERVERLESSSERVE_JOB_RETENTION_DAYS=1}", file.Get("parameters")!.Prop("jobRetentionDays").Get("value").AsString());
    }

    [Fact]
    public void PayloadContainer_GatewayHoldsBlobDataContributorOnThatContainer_AndNothingAccountWideOnTheDataAccount()
    {
        var context = fixture.WithVnet;
        var dataId = Id(DataAccount(context));
        var gateway = GatewayIdentityId(context);
        var containerId = $"{dataId}/blobServices/default/containers/{PayloadContainer}";

        var assignment = Assert.Single(context.OfType("Microsoft.Authorization/roleAssignments"), a => a.Scope == containerId);
        Assert.Equal(DataRoles["blob"], RoleGuid(assignment));
        Assert.Equal(ReferenceTo(gateway, "principalId"), Unversioned(assignment.Body.Get("properties.principalId").AsString()!));
        Assert.Equal($"«guid('{Quoted(containerId)}', '{Quoted(gateway)}', '{DataRoles["blob"]}')»", assignment.Name);

        // On the data account the gateway holds container- and table-scoped roles only: read models, append audit,
        // payloads, its five tables of shared security state and the jobs' traffic board (RbacTableTests has the whole table).
        var gatewayOnData = context.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => Reaches(a.Scope, dataId) && a.Body.Get("properties.principalId").AsString()!.Contains(Quoted(gateway), StringComparison.Ordinal))
            .Select(a => (Container: a.Scope![(a.Scope!.LastIndexOf('/') + 1)..], Role: RoleGuid(a), Scoped: a.Scope.StartsWith($"{dataId}/blobServices/default/containers/", StringComparison.Ordinal) || a.Scope.StartsWith($"{dataId}/tableServices/default/tables/", StringComparison.Ordinal)))
            .OrderBy(a => a.Container, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(
            [
                ("audit", DataRoles["blob"], true), ("budgets", DataRoles["table"], true), ("containment", DataRoles["table"], true),
                ("extraction", DataRoles["table"], true), (PayloadContainer, DataRoles["blob"], true), ("jobtraffic", DataRoles["table"], true),
                ("models", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", true),
                ("requestkeys", DataRoles["table"], true), ("requestnonces", DataRoles["table"], true),
            ],
            gatewayOnData);
    }

    [Fact]
    public void GatewayJobSettings_NameAValidTaskHubAndThePayloadContainerOfTheDataAccount()
    {
        var context = fixture.WithVnet;
        var settings = GatewaySettings(context);

        Assert.Equal(TaskHub, settings["ServerlessServe__Jobs__TaskHub"]);
        // The Durable extension refuses other names: alphanumeric, starting with a letter, 3 to 45 long.
        Assert.Matches(TaskHubName(), settings["ServerlessServe__Jobs__TaskHub"]);
        Assert.Equal(PayloadContainer, settings["ServerlessServe__Jobs__PayloadContainer"]);
        // The container lives in the account the gateway's blob client is pointed at.
        Assert.Equal(ReferenceTo(Id(DataAccount(context)), "primaryEndpoints.blob"), Unversioned(settings["ServerlessServe__Storage__BlobServiceUri"]));
    }

    [Fact]
    public void TaskHubSetting_AgreesWithHostJson()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "host.json")))!;
        var durable = host.Get("extensions")?.Prop("durableTask");
        var setting = GatewaySettings(fixture.WithVnet)["ServerlessServe__Jobs__TaskHub"];

        // host.json gains its durableTask section with the Durable extension's configuration; from then
        // on it must name the same hub as the setting (or read it from the setting).
        if (durable is not null)
        {
            Assert.Contains(durable.Prop("hubName").AsString(), new[] { setting, "%ServerlessServe__Jobs__TaskHub%" });
        }
    }

    /// <summary>
    /// Application Insights' adaptive sampling never drops a log line or exception: the security warnings (6000), audit
    /// failures (5002, 5010) and stage failures (1302) are what alerts read, and a caller who floods requests (even
    /// unauthenticated ones) could otherwise push the sampling rate down, or choose a trace id whose items are dropped.
    /// </summary>
    [Fact]
    public void HostJson_Sampling_NeverDropsTracesOrExceptions()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "host.json")))!;
        var sampling = host["logging"]?["applicationInsights"]?["samplingSettings"];
        if (sampling?["isEnabled"]?.GetValue<bool>() != true)
        {
            return;
        }

        var excluded = sampling["excludedTypes"]!.GetValue<string>().Split(';', StringSplitOptions.TrimEntries);
        Assert.Contains("Trace", excluded);
        Assert.Contains("Exception", excluded);
    }

    private PolicyContext Context(bool vnetEnabled) => vnetEnabled ? fixture.WithVnet : fixture.WithoutVnet;

    private static DeployedResource RuntimeAccount(PolicyContext context) =>
        Assert.Single(context.OfType("Microsoft.Storage/storageAccounts"), a => a.Name.StartsWith("strt", StringComparison.Ordinal));

    private static DeployedResource DataAccount(PolicyContext context) =>
        Assert.Single(context.OfType("Microsoft.Storage/storageAccounts"), a => a.Name.StartsWith("stdata", StringComparison.Ordinal));

    private static string GatewayIdentityId(PolicyContext context) => IdentityId(context, "id-gateway-");

    private static Dictionary<string, string> GatewaySettings(PolicyContext context) =>
        Assert.Single(context.OfType("Microsoft.Web/sites"), Sites.IsGateway).Body.Get("properties.siteConfig.appSettings").Items()
            .ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);

    [GeneratedRegex(@"\blist(Keys|AccountSas|ServiceSas|ConnectionStrings)\(|AccountKey=|SharedAccessSignature=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyFunctions();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,44}$", RegexOptions.CultureInvariant)]
    private static partial Regex TaskHubName();

    // The ", '2025-01-01')" of reference(id, apiVersion): which API version reads a property is not policy.
}
