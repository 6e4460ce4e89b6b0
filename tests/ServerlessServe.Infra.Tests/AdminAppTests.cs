using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// The admin Function App (docs/identity.md, "The admin plane"): its own identity, audience and settings; reachable
/// only through a private endpoint in the VNet (public network access off in both postures); the roles it holds.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed class AdminAppTests(CompiledTemplateFixture fixture)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AdminApp_PublicNetworkAccessOff_DefaultActionDeny(bool vnetEnabled)
    {
        var admin = Admin(vnetEnabled ? fixture.WithVnet : fixture.WithoutVnet);

        Assert.True(admin.Body.Get("properties.publicNetworkAccess").IsString("Disabled"));
        Assert.True(admin.Body.Get("properties.siteConfig.ipSecurityRestrictionsDefaultAction").IsString("Deny"));
        Assert.True(admin.Body.Get("properties.siteConfig.scmIpSecurityRestrictionsDefaultAction").IsString("Deny"));
        Assert.True(admin.Body.Get("properties.httpsOnly").IsTrue());
    }

    [Fact]
    public void AdminApp_ReachedThroughAPrivateEndpointInTheVnet_OutboundThroughItsOwnSubnet()
    {
        var admin = Admin(fixture.WithVnet);
        var endpoint = Assert.Single(fixture.WithVnet.OfType("Microsoft.Network/privateEndpoints"), e => e.Body.Get("properties.privateLinkServiceConnections")!.AsArray()[0].Get("properties.groupIds")!.AsArray()[0].IsString("sites"));

        Assert.Contains(admin.Name.Trim('«', '»'), endpoint.Body.Get("properties.privateLinkServiceConnections")!.AsArray()[0].Get("properties.privateLinkServiceId").Render(), StringComparison.Ordinal);
        Assert.Contains("snet-private-endpoints", endpoint.Body.Get("properties.subnet.id").Render(), StringComparison.Ordinal);
        Assert.Contains("snet-admin", admin.Body.Get("properties.virtualNetworkSubnetId").Render(), StringComparison.Ordinal);
        Assert.True(admin.Body.Get("properties.outboundVnetRouting.allTraffic").IsTrue());
    }

    [Fact]
    public void AdminApp_HasItsOwnIdentity_NotTheGateways()
    {
        var admin = Admin(fixture.WithVnet);
        var gateway = Assert.Single(fixture.WithVnet.OfType("Microsoft.Web/sites"), Sites.IsGateway);

        // Each app also carries the audit witness identity (AuditWitnessTests); its own is the other one.
        var adminIdentity = Assert.Single(admin.Body.Get("identity.userAssignedIdentities")!.AsObject(), i => !i.Key.Contains("id-witness-", StringComparison.Ordinal)).Key;
        var gatewayIdentity = Assert.Single(gateway.Body.Get("identity.userAssignedIdentities")!.AsObject(), i => !i.Key.Contains("id-witness-", StringComparison.Ordinal)).Key;

        Assert.Contains("admin", adminIdentity, StringComparison.Ordinal);
        Assert.NotEqual(gatewayIdentity, adminIdentity);
        // models, audit, the containment and requestkeys tables, its package and the host locks on the runtime account,
        // secrets, telemetry.
        Assert.Equal(8, fixture.WithVnet.OfType("Microsoft.Authorization/roleAssignments").Count(a => a.Body.Get("properties.principalId").Render().Contains("admin", StringComparison.Ordinal)));
    }

    [Fact]
    public void AdminApp_Settings_OwnAudienceSameIssuerSecretsFromKeyVault()
    {
        var settings = Admin(fixture.WithVnet).Body.Get("properties.siteConfig.appSettings").Items()
            .ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);
        var gateway = Assert.Single(fixture.WithVnet.OfType("Microsoft.Web/sites"), Sites.IsGateway).Body.Get("properties.siteConfig.appSettings").Items()
            .ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);

        Assert.Equal(gateway["ServerlessServe__Identity__Authority"], settings["ServerlessServe__Identity__Authority"]);
        Assert.Contains("ServerlessServe__Identity__Audiences__0", settings.Keys);
        Assert.DoesNotContain("ServerlessServe__ServiceToken__SigningKeyPem", settings.Keys);
        Assert.DoesNotContain("ServerlessServe__Gateway__InferenceBaseUrl", settings.Keys);
        Assert.StartsWith("@Microsoft.KeyVault(", settings["ServerlessServe__Audit__PseudonymKey"], StringComparison.Ordinal);
        Assert.StartsWith("@Microsoft.KeyVault(", settings["ServerlessServe__Audit__CheckpointKeyPem"], StringComparison.Ordinal);
        Assert.StartsWith("@Microsoft.KeyVault(", settings["ServerlessServe__Audit__Witness__KeyPem"], StringComparison.Ordinal);
        Assert.Equal(settings["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"], settings["ServerlessServe__Admin__MaxPackageBytes"]);
    }

    [Theory]
    [InlineData("api://serverlessserve", "api://serverlessserve-admin")]
    [InlineData("api://serverlessserve", "")]
    public void Audiences_EachAppNamesTheOthersAsItsSibling_OnlyWhenSet(string dataPlane, string admin)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["identityAudience"] = dataPlane;
        parameters["identityAdminAudience"] = admin;
        var sites = TemplateEvaluator.Evaluate(fixture.Template, parameters).Where(r => r.IsType("Microsoft.Web/sites")).ToList();
        var gateway = Settings(Assert.Single(sites, Sites.IsGateway));
        var adminApp = Settings(Assert.Single(sites, Sites.IsAdmin));

        Assert.Equal(dataPlane, gateway["ServerlessServe__Identity__Audiences__0"]);
        Assert.Equal(dataPlane, adminApp["ServerlessServe__Identity__SiblingAudiences__0"]);
        if (admin.Length == 0)
        {
            Assert.DoesNotContain("ServerlessServe__Identity__SiblingAudiences__0", gateway.Keys);
        }
        else
        {
            Assert.Equal(admin, gateway["ServerlessServe__Identity__SiblingAudiences__0"]);
            Assert.Equal(admin, adminApp["ServerlessServe__Identity__Audiences__0"]);
        }

        static Dictionary<string, string> Settings(DeployedResource site) => site.Body.Get("properties.siteConfig.appSettings").Items()
            .ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);
    }

    private static DeployedResource Admin(PolicyContext context) => Assert.Single(context.OfType("Microsoft.Web/sites"), Sites.IsAdmin);
}
