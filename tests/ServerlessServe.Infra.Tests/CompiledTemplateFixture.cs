using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;
using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// Builds and lints infra/main.bicep once for the whole test run (the CLI takes seconds), then
/// evaluates the ARM JSON for the two network postures: with the VNet (the default) and without.
/// </summary>
public sealed class CompiledTemplateFixture : IAsyncLifetime
{
    public BicepResult Build { get; private set; } = null!;

    public BicepResult Lint { get; private set; } = null!;

    public JsonObject Template { get; private set; } = null!;

    public PolicyContext WithVnet { get; private set; } = null!;

    public PolicyContext WithoutVnet { get; private set; } = null!;

    /// <summary>Parameter values an operator would give azd; everything else takes its default.</summary>
    public static Dictionary<string, JsonNode?> Parameters(bool vnetEnabled) => new(StringComparer.OrdinalIgnoreCase)
    {
        ["environmentName"] = "policytest",
        ["location"] = "westeurope",
        ["principalId"] = "00000000-0000-0000-0000-0000000000aa",
        ["vnetEnabled"] = vnetEnabled,
    };

    public async Task InitializeAsync()
    {
        var main = BicepCli.InfraPath("main.bicep");
        var build = BicepCli.BuildAsync(main);
        var lint = BicepCli.LintAsync(main);
        Build = await build;
        Lint = await lint;
        if (Build.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build failed:\n{Build.Diagnostics}");
        }

        Template = JsonNode.Parse(Build.Output)!.AsObject();
        WithVnet = new PolicyContext(TemplateEvaluator.Evaluate(Template, Parameters(vnetEnabled: true)), VnetEnabled: true);
        WithoutVnet = new PolicyContext(TemplateEvaluator.Evaluate(Template, Parameters(vnetEnabled: false)), VnetEnabled: false);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class CompiledTemplateCollection : ICollectionFixture<CompiledTemplateFixture>
{
    public const string Name = "compiled main.bicep";
}
