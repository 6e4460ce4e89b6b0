using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// `azd down` then `azd up`: the Key Vault (purge protection, a name fixed by the environment) is recovered rather than
/// collided with, and a salt gives every generated name a new value, to deploy beside what cannot be deleted yet.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed class RedeployTests(CompiledTemplateFixture fixture)
{
    [Fact]
    public void KeyVault_IsCreatedNormallyByDefault_AndRecoveredWhenTheHookSaysSo()
    {
        Assert.Equal("default", Vault(fixture.WithVnet.Resources).Body.Get("properties.createMode").AsString());

        var recovered = Evaluate(("keyVaultCreateMode", "recover"));

        Assert.Equal("recover", Vault(recovered).Body.Get("properties.createMode").AsString());
    }

    [Fact]
    public void ParametersFile_TakesTheCreateModeAndSaltFromTheHookAndOperator()
    {
        var parameters = JsonNode.Parse(File.ReadAllText(BicepCli.InfraPath("main.parameters.json")))!["parameters"]!;

        Assert.Equal("${SERVERLESSSERVE_KEY_VAULT_CREATE_MODE=default}", parameters["keyVaultCreateMode"]!["value"]!.GetValue<string>());
        Assert.Equal("${SERVERLESSSERVE_RESOURCE_SALT=}", parameters["resourceSalt"]!["value"]!.GetValue<string>());
        foreach (var ext in new[] { "sh", "ps1" })
        {
            Assert.Contains("preflight", File.ReadAllText(BicepCli.InfraPath(Path.Combine("hooks", $"preprovision.{ext}"))), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void WithoutSalt_NamesAreThoseOfEveryEarlierDeployment()
    {
        // uniqueString of three values: an empty fourth would rename everything already deployed.
        Assert.Equal(
            "«toLower(uniqueString(subscription().id, 'policytest', 'westeurope'))»",
            Vault(fixture.WithVnet.Resources).Name["kv-".Length..]);
    }

    [Fact]
    public void Salt_GivesEveryGeneratedNameANewValue_ButKeepsTheResourceGroup()
    {
        var salted = Evaluate(("resourceSalt", "2"));

        var token = "«toLower(uniqueString(subscription().id, 'policytest', 'westeurope', '2'))»";
        Assert.Equal($"kv-{token}", Vault(salted).Name);
        Assert.All(
            salted.Where(r => r.IsType("Microsoft.Storage/storageAccounts") || r.IsType("Microsoft.Web/sites") || r.IsType("Microsoft.App/containerApps") || r.IsType("Microsoft.ManagedIdentity/userAssignedIdentities")),
            r => Assert.EndsWith(token, r.Name, StringComparison.Ordinal));
        Assert.Equal("rg-policytest", Assert.Single(salted, r => r.IsType("Microsoft.Resources/resourceGroups")).Name);
    }

    private static DeployedResource Vault(IEnumerable<DeployedResource> resources) =>
        Assert.Single(resources, r => r.IsType("Microsoft.KeyVault/vaults"));

    private IReadOnlyList<DeployedResource> Evaluate(params (string Name, string Value)[] extra)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        foreach (var (name, value) in extra)
        {
            parameters[name] = value;
        }

        return TemplateEvaluator.Evaluate(fixture.Template, parameters);
    }
}
