using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;
using ServerlessServe.Infra.Tests.Policy;
using static ServerlessServe.Infra.Tests.TemplateTerms;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// The audit witness as main.bicep deploys it (docs/deploy.md, "The audit witness"): an account of its own with a
/// write-once `audit-witness` container, written only by a witness identity that holds no role anywhere else, while
/// the apps' own identities hold none on it.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed partial class AuditWitnessTests(CompiledTemplateFixture fixture)
{
    private const string Container = "audit-witness";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WitnessAccount_IsNotTheDataAccount_AndTakesEntraIdOnly(bool vnetEnabled)
    {
        var context = vnetEnabled ? fixture.WithVnet : fixture.WithoutVnet;
        var witness = WitnessAccount(context);
        var data = Assert.Single(context.OfType("Microsoft.Storage/storageAccounts"), a => a.Name.StartsWith("stdata", StringComparison.Ordinal));

        Assert.NotEqual(data.Name, witness.Name);
        Assert.Equal(3, context.OfType("Microsoft.Storage/storageAccounts").Select(a => a.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.True(witness.Body.Get("properties.allowSharedKeyAccess").IsFalse());
        Assert.True(witness.Body.Get("properties.defaultToOAuthAuthentication").IsTrue());
        Assert.True(witness.Body.Get("properties.allowBlobPublicAccess").IsFalse());
        Assert.True(witness.Body.Get("properties.supportsHttpsTrafficOnly").IsTrue());
        Assert.Equal("TLS1_2", witness.Body.Get("properties.minimumTlsVersion").AsString());
        Assert.Equal(vnetEnabled ? "Disabled" : "Enabled", witness.Body.Get("properties.publicNetworkAccess").AsString());
        Assert.Equal(vnetEnabled ? "Deny" : "Allow", witness.Body.Get("properties.networkAcls.defaultAction").AsString());
    }

    [Theory]
    [InlineData(null, null, 365)]
    [InlineData(30, null, 30)]
    [InlineData(30, 90, 90)]
    public void WitnessContainer_IsPrivateAndWriteOnce_ForTheAuditRetentionUnlessSetApart(int? auditDays, int? witnessDays, int expected)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        if (auditDays is { } audit)
        {
            parameters["auditRetentionDays"] = audit;
        }

        if (witnessDays is { } own)
        {
            parameters["auditWitnessRetentionDays"] = own;
        }

        var context = new PolicyContext(TemplateEvaluator.Evaluate(fixture.Template, parameters), VnetEnabled: true);
        var witness = WitnessAccount(context);

        var container = Assert.Single(context.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"), c => c.ShortName == Container);
        Assert.Equal($"{witness.Name}/default/{Container}", container.Name);
        Assert.Equal("None", container.Body.Get("properties.publicAccess").AsString());
        var policy = Assert.Single(context.OfType("Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies"), p => p.Name.StartsWith($"{container.Name}/", StringComparison.Ordinal));
        Assert.Equal(expected, policy.Body.Get("properties.immutabilityPeriodSinceCreationInDays").AsInteger());
        // Heads are block blobs written once: no appends either.
        Assert.True(policy.Body.Get("properties.allowProtectedAppendWrites").IsFalse());
    }

    [Fact]
    public void WitnessAccount_OnlyTheWitnessIdentityHoldsARole_BlobDataContributorOnTheWitnessContainer()
    {
        var context = fixture.WithVnet;
        var witnessId = Id(WitnessAccount(context));
        var identity = IdentityId(context, "id-witness-");
        var containerId = $"{witnessId}/blobServices/default/containers/{Container}";

        // Every assignment that reaches the account: on it, below it, or on anything above it.
        var reaching = context.OfType("Microsoft.Authorization/roleAssignments").Where(a => Reaches(a.Scope, witnessId)).ToList();

        var assignment = Assert.Single(reaching);
        Assert.Equal(containerId, assignment.Scope);
        Assert.Equal(BlobDataContributor, RoleGuid(assignment));
        Assert.Equal(ReferenceTo(identity, "principalId"), Unversioned(assignment.Body.Get("properties.principalId").AsString()!));
        Assert.Equal("ServicePrincipal", assignment.Body.Get("properties.principalType").AsString());
        Assert.Equal($"«guid('{Quoted(containerId)}', '{Quoted(identity)}', '{BlobDataContributor}')»", assignment.Name);
    }

    [Fact]
    public void WitnessIdentity_HoldsNoRoleBeyondTheWitnessContainer()
    {
        var context = fixture.WithVnet;
        var identity = IdentityId(context, "id-witness-");

        var held = context.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => a.Body.Get("properties.principalId").AsString()!.Contains(Quoted(identity), StringComparison.Ordinal))
            .Select(a => a.Scope)
            .ToList();

        Assert.Equal([$"{Id(WitnessAccount(context))}/blobServices/default/containers/{Container}"], held);
    }

    [Theory]
    [InlineData("id-gateway-")]
    [InlineData("id-admin-")]
    [InlineData("id-inference-")]
    public void AppIdentities_HoldNoRoleOnTheWitnessAccount(string prefix)
    {
        var context = fixture.WithVnet;
        var witnessId = Id(WitnessAccount(context));
        var identity = IdentityId(context, prefix);

        Assert.DoesNotContain(
            context.OfType("Microsoft.Authorization/roleAssignments"),
            a => Reaches(a.Scope, witnessId) && a.Body.Get("properties.principalId").AsString()!.Contains(Quoted(identity), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("gateway", "id-gateway-")]
    [InlineData("admin", "id-admin-")]
    public void App_CarriesTheWitnessIdentityAndSettings_WithTheKeyFromKeyVault(string app, string ownPrefix)
    {
        var context = fixture.WithVnet;
        var site = Assert.Single(context.OfType("Microsoft.Web/sites"), app == "gateway" ? Sites.IsGateway : Sites.IsAdmin);
        var settings = site.Body.Get("properties.siteConfig.appSettings").Items()
            .ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);
        var witnessIdentity = IdentityId(context, "id-witness-");
        var ownIdentity = IdentityId(context, ownPrefix);

        Assert.Equal(
            new[] { ownIdentity, witnessIdentity }.Order(StringComparer.Ordinal),
            site.Body.Get("identity.userAssignedIdentities")!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(ReferenceTo(Id(WitnessAccount(context)), "primaryEndpoints.blob"), Unversioned(settings["ServerlessServe__Audit__Witness__BlobServiceUri"]));
        Assert.Equal(Container, settings["ServerlessServe__Audit__Witness__Container"]);
        Assert.Equal(ReferenceTo(witnessIdentity, "clientId"), Unversioned(settings["ServerlessServe__Audit__Witness__ManagedIdentityClientId"]));
        // Everything else stays on the app's own identity: AZURE_CLIENT_ID, the host's storage, Key Vault references.
        Assert.Equal(ReferenceTo(ownIdentity, "clientId"), Unversioned(settings["AZURE_CLIENT_ID"]));
        Assert.Equal(ownIdentity, site.Body.Get("properties.keyVaultReferenceIdentity").AsString());
        Assert.StartsWith("@Microsoft.KeyVault(SecretUri=«", settings["ServerlessServe__Audit__Witness__KeyPem"], StringComparison.Ordinal);
        Assert.EndsWith("»secrets/audit-witness-key)", settings["ServerlessServe__Audit__Witness__KeyPem"], StringComparison.Ordinal);
        Assert.NotEqual(settings["ServerlessServe__Audit__CheckpointKeyPem"], settings["ServerlessServe__Audit__Witness__KeyPem"]);
    }

    [Fact]
    public void WitnessAccount_WithVnet_IsReachedThroughABlobPrivateEndpointInTheBlobZone()
    {
        var context = fixture.WithVnet;
        var witness = WitnessAccount(context);
        var vnet = Assert.Single(context.OfType("Microsoft.Network/virtualNetworks"));

        var endpoint = Assert.Single(context.OfType("Microsoft.Network/privateEndpoints"), pe =>
            pe.Body.Get("properties.privateLinkServiceConnections").Items().Any(c => c.Get("properties.privateLinkServiceId").IsString(Id(witness))));
        Assert.Equal(["blob"], endpoint.Body.Get("properties.privateLinkServiceConnections").Items().Single().Get("properties.groupIds").Items().Select(g => g.Render()));
        Assert.Equal($"{Id(vnet)}/subnets/snet-private-endpoints", endpoint.Body.Get("properties.subnet.id").AsString());
        var zoneGroup = Assert.Single(context.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups"), g => g.Name == $"{endpoint.Name}/default");
        var zoneId = Assert.Single(zoneGroup.Body.Get("properties.privateDnsZoneConfigs").Items()).Get("properties.privateDnsZoneId").AsString();
        var zone = Assert.Single(context.OfType("Microsoft.Network/privateDnsZones"), z => Id(z) == zoneId);
        Assert.Equal("privatelink.blob.«environment().suffixes.storage»", zone.Name);
    }

    [Fact]
    public void WitnessKey_IsASecureParameterFedFromTheAzdEnvironment_ByBothHooks()
    {
        var parameter = fixture.Template.Get("parameters")!.Prop("auditWitnessKeyPem");
        Assert.Equal("securestring", parameter.Get("type").AsString());
        var file = JsonNode.Parse(File.ReadAllText(BicepCli.InfraPath("main.parameters.json")))!;
        Assert.Equal("${SERVERLESSSERVE_AUDIT_WITNESS_KEY_PEM=}", file.Get("parameters")!.Prop("auditWitnessKeyPem").Get("value").AsString());

        // Each hook hands the witness key over from its own file (never the checkpoint key's) and forgets it afterwards.
        foreach (var ext in new[] { "sh", "ps1" })
        {
            var pre = File.ReadAllText(BicepCli.InfraPath(Path.Combine("hooks", $"preprovision.{ext}")));
            var post = File.ReadAllText(BicepCli.InfraPath(Path.Combine("hooks", $"postprovision.{ext}")));
            Assert.Matches(WitnessHandOver(), pre);
            Assert.Contains("SERVERLESSSERVE_AUDIT_WITNESS_KEY_PEM", post, StringComparison.Ordinal);
            Assert.Contains("audit-witness.key.pem", post, StringComparison.Ordinal);
        }
    }

    private static DeployedResource WitnessAccount(PolicyContext context) =>
        Assert.Single(context.OfType("Microsoft.Storage/storageAccounts"), a => a.Name.StartsWith("stwit", StringComparison.Ordinal));

    // SERVERLESSSERVE_AUDIT_WITNESS_KEY_PEM set from audit-witness.key.pem on the same line.
    [GeneratedRegex(@"SERVERLESSSERVE_AUDIT_WITNESS_KEY_PEM.*audit-witness\.key\.pem", RegexOptions.CultureInvariant)]
    private static partial Regex WitnessHandOver();
}
