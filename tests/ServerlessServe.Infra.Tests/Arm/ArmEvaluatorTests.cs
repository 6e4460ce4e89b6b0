using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

public sealed class ArmEvaluatorTests
{
    private static ArmEvaluator Evaluator(DeploymentScope scope = DeploymentScope.ResourceGroup) => new(
        new JsonObject
        {
            ["parameters"] = new JsonObject
            {
                ["name"] = new JsonObject { ["type"] = "string", ["defaultValue"] = "[format('st{0}', parameters('suffix'))]" },
                ["suffix"] = new JsonObject { ["type"] = "string" },
                ["vnetEnabled"] = new JsonObject { ["type"] = "bool", ["defaultValue"] = true },
            },
            ["variables"] = new JsonObject { ["common"] = new JsonObject { ["minimumTlsVersion"] = "TLS1_2" } },
        },
        new Dictionary<string, JsonNode?> { ["suffix"] = "data" },
        scope);

    [Fact]
    public void Evaluate_DefaultReferencingParameter_ResolvesChain() =>
        Assert.Equal("stdata", Evaluator().Evaluate("[parameters('name')]").AsString());

    [Fact]
    public void Evaluate_IfOnKnownCondition_TakesThatBranch() =>
        Assert.Equal("Disabled", Evaluator().Evaluate("[if(parameters('vnetEnabled'), 'Disabled', 'Enabled')]").AsString());

    [Fact]
    public void Evaluate_IntegerArithmetic_AddsAndSubtracts()
    {
        Assert.Equal(8, Evaluator().Evaluate("[add(7, 1)]").AsInteger());
        Assert.Equal(6, Evaluator().Evaluate("[sub(add(7, 1), 2)]").AsInteger());
    }

    [Fact]
    public void Evaluate_UnionWithVariable_MergesObjects()
    {
        var result = Evaluator().Evaluate("[union(variables('common'), createObject('allowSharedKeyAccess', false()))]");
        Assert.Equal("TLS1_2", result.Get("minimumTlsVersion").AsString());
        Assert.True(result.Get("allowSharedKeyAccess").IsFalse());
    }

    [Fact]
    public void Evaluate_UserDefinedFunction_BindsOnlyItsParameters()
    {
        var template = new JsonObject
        {
            ["parameters"] = new JsonObject { ["value"] = new JsonObject { ["type"] = "string", ["defaultValue"] = "outer" } },
            ["functions"] = new JsonArray(new JsonObject
            {
                ["namespace"] = "__bicep",
                ["members"] = new JsonObject
                {
                    ["wrap"] = new JsonObject
                    {
                        ["parameters"] = new JsonArray(new JsonObject { ["name"] = "value", ["type"] = "string" }),
                        ["output"] = new JsonObject { ["type"] = "string", ["value"] = "[format('<{0}>', parameters('value'))]" },
                    },
                },
            }),
        };
        var evaluator = new ArmEvaluator(template, new Dictionary<string, JsonNode?>(), DeploymentScope.ResourceGroup);

        Assert.Equal("<inner>", evaluator.Evaluate("[__bicep.wrap('inner')]").AsString());
        Assert.Equal("«__bicep.missing('x')»", evaluator.Evaluate("[__bicep.missing('x')]").AsString());
    }

    /// <summary>
    /// cidrHost counts usable addresses only: index 0 is the network address plus one (ARM's documented examples), so an
    /// Azure subnet's first address a resource can get (Azure keeps .0 to .3) is index 3.
    /// </summary>
    [Theory]
    [InlineData("10.144.3.0/24", 0, "10.144.3.1")]
    [InlineData("10.144.3.0/24", 4, "10.144.3.5")]
    [InlineData("10.40.6.0/26", 3, "10.40.6.4")]
    [InlineData("10.40.7.64/26", 3, "10.40.7.68")]
    [InlineData("10.40.0.0/16", 300, "10.40.1.45")]
    public void Evaluate_CidrHost_CountsUsableAddressesFromTheNetwork(string network, int index, string expected) =>
        Assert.Equal(expected, Evaluator().Evaluate($"[cidrHost('{network}', {index})]").AsString());

    [Fact]
    public void Evaluate_CidrHost_BeyondTheLastUsableAddress_Throws() =>
        Assert.Throws<InvalidOperationException>(() => Evaluator().Evaluate("[cidrHost('10.40.6.0/30', 2)]"));

    [Fact]
    public void Evaluate_DeploymentDependentFunction_StaysSymbolic()
    {
        var result = Evaluator().Evaluate("[format('st{0}', uniqueString(subscription().id))]");
        Assert.Equal("st«uniqueString(subscription().id)»", result.AsString());
        Assert.True(Symbolic.Contains(result));
        Assert.False(Symbolic.Is(result));
    }

    [Fact]
    public void Evaluate_MemberOfSymbolic_ExtendsTerm()
    {
        var result = Evaluator().Evaluate("[listKeys(resourceId('Microsoft.Storage/storageAccounts', 'st'), '2025-01-01').keys[0].value]");
        Assert.True(Symbolic.Is(result));
        Assert.StartsWith("«listKeys('/subscriptions/", result.AsString(), StringComparison.Ordinal);
        Assert.EndsWith(".keys[0].value»", result.AsString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ResourceIdInResourceGroup_RendersFullChildId() =>
        Assert.Equal(
            "/subscriptions/«subscription().subscriptionId»/resourceGroups/«resourceGroup().name»/providers/Microsoft.Network/virtualNetworks/vnet/subnets/apps",
            Evaluator().Evaluate("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet', 'apps')]").AsString());

    [Fact]
    public void Evaluate_EscapedBracket_IsLiteral() =>
        Assert.Equal("[not an expression]", Evaluator().EvaluateDeep(JsonValue.Create("[[not an expression]")).AsString());

    [Fact]
    public void Walk_NestedDeployment_PassesEvaluatedParameters()
    {
        var template = JsonNode.Parse("""
            {
              "parameters": { "env": { "type": "string", "defaultValue": "dev" } },
              "resources": [ {
                "type": "Microsoft.Resources/deployments", "name": "child", "resourceGroup": "rg",
                "properties": {
                  "parameters": { "name": { "value": "[format('kv-{0}', parameters('env'))]" } },
                  "template": {
                    "parameters": { "name": { "type": "string" } },
                    "resources": [ { "type": "Microsoft.KeyVault/vaults", "name": "[parameters('name')]", "properties": {} } ]
                  }
                }
              } ]
            }
            """)!.AsObject();

        var resources = TemplateEvaluator.Evaluate(template, new Dictionary<string, JsonNode?>());

        var vault = Assert.Single(resources);
        Assert.Equal("kv-dev", vault.Name);
        Assert.Equal("main/child", vault.DeploymentPath);
        Assert.Equal(DeploymentScope.ResourceGroup, vault.DeploymentScope);
    }

    [Fact]
    public void Walk_CopyLoopAndFalseCondition_ExpandsAndSkips()
    {
        var template = JsonNode.Parse("""
            {
              "variables": { "zones": { "b": "zone-b", "a": "zone-a" } },
              "resources": [
                { "type": "Microsoft.Network/privateDnsZones", "name": "[items(variables('zones'))[copyIndex()].value]",
                  "copy": { "name": "zones", "count": "[length(items(variables('zones')))]" } },
                { "type": "Microsoft.Network/privateDnsZones", "name": "skipped", "condition": "[not(true())]" }
              ]
            }
            """)!.AsObject();

        var names = TemplateEvaluator.Evaluate(template, new Dictionary<string, JsonNode?>()).Select(r => r.Name);

        Assert.Equal(["zone-a", "zone-b"], names);
    }

    [Fact]
    public void Walk_ModuleOutputs_AreWhatAReferenceToTheModuleReads()
    {
        // A symbolic-name parent (as Bicep compiles main.bicep): `store` is deployed, `absent` is not.
        var template = JsonNode.Parse("""
            {
              "languageVersion": "2.0",
              "resources": {
                "store": {
                  "type": "Microsoft.Resources/deployments", "name": "store", "resourceGroup": "rg",
                  "properties": {
                    "parameters": { "account": { "value": "stdata" } },
                    "template": {
                      "parameters": { "account": { "type": "string" } },
                      "resources": [ { "type": "Microsoft.Storage/storageAccounts", "name": "[parameters('account')]" } ],
                      "outputs": {
                        "queue": { "type": "string", "value": "[reference(resourceId('Microsoft.Storage/storageAccounts', parameters('account')), '2025-01-01').primaryEndpoints.queue]" },
                        "name": { "type": "string", "value": "[parameters('account')]" }
                      }
                    }
                  }
                },
                "absent": {
                  "condition": false, "type": "Microsoft.Resources/deployments", "name": "absent", "resourceGroup": "rg",
                  "properties": { "template": { "outputs": { "id": { "type": "string", "value": "known" } } } }
                },
                "site": {
                  "type": "Microsoft.Web/sites", "name": "func",
                  "properties": {
                    "queue": "[reference('store').outputs.queue.value]",
                    "name": "[reference('store').outputs.name.value]",
                    "absent": "[coalesce(tryGet(reference('absent'), 'outputs', 'id', 'value'), '')]"
                  }
                }
              }
            }
            """)!.AsObject();

        var site = Assert.Single(TemplateEvaluator.Evaluate(template, new Dictionary<string, JsonNode?>()), r => r.IsType("Microsoft.Web/sites"));

        Assert.Equal("stdata", site.Body.Get("properties.name").AsString());
        Assert.Equal(
            "«reference('/subscriptions/«subscription().subscriptionId»/resourceGroups/«resourceGroup().name»/providers/Microsoft.Storage/storageAccounts/stdata', '2025-01-01').primaryEndpoints.queue»",
            site.Body.Get("properties.queue").AsString());
        Assert.True(Symbolic.Is(site.Body.Get("properties.absent")));
    }
}
