using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests;

[Collection(CompiledTemplateCollection.Name)]
public sealed partial class BicepTemplateTests(CompiledTemplateFixture fixture)
{
    [Fact]
    public void Build_MainTemplate_SucceedsWithoutDiagnostics()
    {
        Assert.Equal(0, fixture.Build.ExitCode);
        Assert.Empty(fixture.Build.DiagnosticLines);
    }

    [Fact]
    public void Lint_MainTemplate_ReportsNothing()
    {
        Assert.True(fixture.Lint.ExitCode == 0, fixture.Lint.Diagnostics);
        Assert.Empty(fixture.Lint.DiagnosticLines);
    }

    [Fact]
    public void Build_MainTemplate_TargetsSubscriptionWithUpperSnakeOutputs()
    {
        Assert.Contains("subscriptionDeploymentTemplate", fixture.Template.Get("$schema").AsString(), StringComparison.Ordinal);
        var outputs = fixture.Template.Get("outputs")!.AsObject().Select(o => o.Key).ToList();
        Assert.Contains("AZURE_CONTAINER_REGISTRY_ENDPOINT", outputs);
        Assert.Contains("SERVERLESSSERVE_MODELS_BLOB_URI", outputs);
        Assert.All(outputs, name => Assert.Matches(UpperSnake(), name));
    }

    [Fact]
    public void Evaluate_WithVnet_DeploysEveryConcern()
    {
        var types = fixture.WithVnet.Resources.Select(r => r.Type).ToHashSet(StringComparer.OrdinalIgnoreCase);
        string[] expected =
        [
            "Microsoft.Resources/resourceGroups",
            "Microsoft.OperationalInsights/workspaces",
            "Microsoft.Insights/components",
            "Microsoft.Network/virtualNetworks",
            "Microsoft.Network/networkSecurityGroups",
            "Microsoft.Network/privateEndpoints",
            "Microsoft.Network/privateDnsZones",
            "Microsoft.Storage/storageAccounts",
            "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies",
            "Microsoft.KeyVault/vaults",
            "Microsoft.ContainerRegistry/registries",
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            "Microsoft.Web/serverfarms",
            "Microsoft.Web/sites",
            "Microsoft.App/managedEnvironments",
            "Microsoft.App/containerApps",
            "Microsoft.Authorization/roleAssignments",
        ];
        Assert.All(expected, type => Assert.Contains(type, types));
        // blob for the data account; blob, queue and table for the runtime account; the vault.
        Assert.Equal(5, fixture.WithVnet.OfType("Microsoft.Network/privateEndpoints").Count());
    }

    [Fact]
    public void Evaluate_WithoutVnet_DeploysNoNetworkResources()
    {
        Assert.DoesNotContain(fixture.WithoutVnet.Resources, r => r.Type.StartsWith("Microsoft.Network/", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(fixture.WithoutVnet.Resources, r => r.IsType("Microsoft.Web/sites"));
    }

    [Fact]
    public void Evaluate_RoleAssignments_OnePerGrantNamedByScopePrincipalRole()
    {
        var assignments = fixture.WithVnet.OfType("Microsoft.Authorization/roleAssignments").ToList();
        // gateway 7, inference 4, publisher 1.
        Assert.Equal(12, assignments.Count);
        Assert.All(assignments, a => Assert.StartsWith("«guid(", a.Name, StringComparison.Ordinal));
        Assert.Equal(assignments.Count, assignments.Select(a => a.Name).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Evaluate_InferenceApp_SelectsCudaOnGpuProfile()
    {
        var app = Assert.Single(fixture.WithVnet.OfType("Microsoft.App/containerApps"));
        Assert.Equal("functionapp", app.Body.Get("kind").AsString());
        Assert.Equal("gpu", app.Body.Get("properties.workloadProfileName").AsString());
        var env = app.Body.Get("properties.template.containers")!.AsArray()[0].Get("env").Items();
        Assert.Contains(env, e => e.Get("name").IsString("ServerlessServe__Inference__ExecutionProvider") && e.Get("value").IsString("Cuda"));
    }

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex UpperSnake();
}
