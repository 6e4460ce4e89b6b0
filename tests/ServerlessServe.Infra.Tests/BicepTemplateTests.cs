using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;

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
        // blob and table for the data account; blob, queue and table for the runtime account; blob for the witness
        // account; the vault; the admin app; the container registry.
        Assert.Equal(9, fixture.WithVnet.OfType("Microsoft.Network/privateEndpoints").Count());
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
        // gateway 14, admin 8 (its package and the host locks on the runtime account, not the account), inference 4 (no
        // Key Vault: it holds no secret; its host's lock container), publisher 1, audit witness 1, publish job 2
        // (RbacTableTests has the whole table).
        Assert.Equal(30, assignments.Count);
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

    [Fact]
    public void Evaluate_GatewayApp_HasExactlyTheAppConfigurationNames()
    {
        var settings = GatewaySettings(fixture.WithVnet);

        Assert.Equal(
            [
                "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                "AZURE_CLIENT_ID",
                "AzureWebJobsDisableHomepage",
                "AzureWebJobsStorage__blobServiceUri",
                "AzureWebJobsStorage__clientId",
                "AzureWebJobsStorage__credential",
                "AzureWebJobsStorage__queueServiceUri",
                "AzureWebJobsStorage__tableServiceUri",
                "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT",
                "ServerlessServe__Audit__CheckpointKeyPem",
                "ServerlessServe__Audit__Container",
                "ServerlessServe__Audit__PseudonymKey",
                "ServerlessServe__Audit__Witness__BlobServiceUri",
                "ServerlessServe__Audit__Witness__Container",
                "ServerlessServe__Audit__Witness__KeyPem",
                "ServerlessServe__Audit__Witness__ManagedIdentityClientId",
                "ServerlessServe__Egress__AllowedHosts__0",
                "ServerlessServe__Gateway__InferenceBaseUrl",
                "ServerlessServe__Identity__Audiences__0",
                "ServerlessServe__Identity__Authority",
                "ServerlessServe__Jobs__PayloadContainer",
                "ServerlessServe__Jobs__PurgeSchedule",
                "ServerlessServe__Jobs__ResultRetention",
                "ServerlessServe__Jobs__TaskHub",
                "ServerlessServe__Limits__BodyBytesInFlight",
                "ServerlessServe__Limits__CallerBodyBytesInFlight",
                "ServerlessServe__Models__Container",
                "ServerlessServe__Models__TrustedSignerPems__0",
                "ServerlessServe__Protocol__MaxBodyBytes",
                "ServerlessServe__ServiceToken__Resource",
                "ServerlessServe__Signatures__PublicBaseUrl",
                "ServerlessServe__Storage__BlobServiceUri",
            ],
            settings.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("models", settings["ServerlessServe__Models__Container"]);
        Assert.Equal("audit", settings["ServerlessServe__Audit__Container"]);

        // Request bodies held at once: half the instance's 2,048 MB, one caller a quarter of that.
        Assert.Equal("1073741824", settings["ServerlessServe__Limits__BodyBytesInFlight"]);
        Assert.Equal("268435456", settings["ServerlessServe__Limits__CallerBodyBytesInFlight"]);
        Assert.Matches(@"^https://«.+»/api$", settings["ServerlessServe__Gateway__InferenceBaseUrl"]);
        // Callers: this tenant's Entra ID v2 issuer, its metadata read from there; no pinned key.
        Assert.Equal("«environment().authentication.loginEndpoint»«tenant().tenantId»/v2.0", settings["ServerlessServe__Identity__Authority"]);
    }

    [Theory]
    [InlineData("ServerlessServe__Audit__PseudonymKey", "audit-pseudonym-key")]
    [InlineData("ServerlessServe__Audit__CheckpointKeyPem", "audit-checkpoint-key")]
    [InlineData("ServerlessServe__Audit__Witness__KeyPem", "audit-witness-key")]
    public void Evaluate_GatewaySecret_IsVersionlessKeyVaultReferenceToItsSecret(string setting, string secret)
    {
        var value = GatewaySettings(fixture.WithVnet)[setting];

        Assert.StartsWith("@Microsoft.KeyVault(SecretUri=«", value, StringComparison.Ordinal);
        Assert.EndsWith($"»secrets/{secret})", value, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_KeyVault_WritesTheThreeAuditSecrets()
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["auditPseudonymKey"] = "cHNldWRvbnltLWtleQ==";
        parameters["auditCheckpointKeyPem"] = "cGxhY2Vob2xkZXItbm90LWEta2V5"; // base64 of a placeholder, not a key
        parameters["auditWitnessKeyPem"] = "YW5vdGhlci1wbGFjZWhvbGRlcg=="; // base64 of another placeholder
        var secrets = TemplateEvaluator.Evaluate(fixture.Template, parameters)
            .Where(r => r.IsType("Microsoft.KeyVault/vaults/secrets"))
            .Select(s => s.Name.Split('/')[^1])
            .Order(StringComparer.Ordinal);

        Assert.Equal(["audit-checkpoint-key", "audit-pseudonym-key", "audit-witness-key"], secrets);
    }

    /// <summary>
    /// Every blob service keeps deleted containers for a while: each app's Blob Data Contributor role can delete a
    /// container whole (role conditions govern data actions only). The runtime account's did not before 2026-12-07, so
    /// a compromised app could remove the admin app's deployment package or the hosts' lock container for good.
    /// </summary>
    [Fact]
    public void Evaluate_EveryBlobService_KeepsDeletedContainers()
    {
        var services = fixture.WithVnet.OfType("Microsoft.Storage/storageAccounts/blobServices").ToList();

        Assert.True(services.Count >= 2, string.Join(", ", services.Select(s => s.Name)));
        Assert.All(services, s =>
        {
            Assert.True(s.Body.Get("properties.containerDeleteRetentionPolicy.enabled").IsTrue(), s.Name);
            Assert.True(s.Body.Get("properties.deleteRetentionPolicy.enabled").IsTrue(), s.Name);
        });
    }

    [Fact]
    public void Evaluate_InferenceApp_HasExactlyTheAppConfigurationNamesAndNoSecrets()
    {
        var app = Assert.Single(fixture.WithVnet.OfType("Microsoft.App/containerApps"));
        var env = app.Body.Get("properties.template.containers")!.AsArray()[0].Get("env").Items().ToList();

        Assert.Equal(
            [
                "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                "ASPNETCORE_URLS",
                "AZURE_CLIENT_ID",
                "AzureWebJobsDisableHomepage",
                "AzureWebJobsSecretStorageType",
                "AzureWebJobsStorage__blobServiceUri",
                "AzureWebJobsStorage__clientId",
                "AzureWebJobsStorage__credential",
                "AzureWebJobsStorage__queueServiceUri",
                "AzureWebJobsStorage__tableServiceUri",
                "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT",
                "ServerlessServe__Inference__ExecutionProvider",
                "ServerlessServe__Models__Container",
                "ServerlessServe__Models__TrustedSignerPems__0",
                "ServerlessServe__Protocol__MaxBodyBytes",
                "ServerlessServe__ServiceAuth__AllowedIdentities__0",
                "ServerlessServe__ServiceAuth__AllowedIdentities__1",
                "ServerlessServe__ServiceAuth__Audiences__0",
                "ServerlessServe__ServiceAuth__Audiences__1",
                "ServerlessServe__ServiceAuth__Authority",
                "ServerlessServe__ServiceAuth__Issuers__0",
                "ServerlessServe__ServiceAuth__Issuers__1",
                "ServerlessServe__Storage__BlobServiceUri",
            ],
            env.Select(e => e.Get("name").Render()).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(env, e => e.Get("secretRef") is not null);
        Assert.Null(app.Body.Get("properties.configuration.secrets"));
    }

    [Theory]
    [InlineData("", "api://serverlessserve-inference", "")]
    [InlineData("7f1c4a52-0000-4000-8000-0000000000c1", "7f1c4a52-0000-4000-8000-0000000000c1", "")]
    [InlineData("", "api://serverlessserve-inference", "https://callers.ciamlogin.com/11111111-2222-3333-4444-555555555555/v2.0")]
    public void Evaluate_ServiceIdentity_GatewayAsksForTheAudienceTheInferenceAppAcceptsFromTheGatewaysIdentityOnly(string clientId, string secondAudience, string callersAuthority)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["inferenceAudience"] = "api://serverlessserve-inference";
        parameters["inferenceClientId"] = clientId;
        parameters["identityAuthority"] = callersAuthority;
        var resources = TemplateEvaluator.Evaluate(fixture.Template, parameters);
        var gateway = Assert.Single(resources.Where(r => r.IsType("Microsoft.Web/sites")), Sites.IsGateway).Body.Get("properties.siteConfig.appSettings").Items()
            .ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);
        var inference = Assert.Single(resources, r => r.IsType("Microsoft.App/containerApps")).Body.Get("properties.template.containers")!.AsArray()[0].Get("env").Items()
            .ToDictionary(e => e.Get("name").Render(), e => e.Get("value").Render(), StringComparer.Ordinal);

        // The gateway asks for the inference API with its user-assigned identity, and no key anywhere.
        Assert.Equal("api://serverlessserve-inference", gateway["ServerlessServe__ServiceToken__Resource"]);
        Assert.Matches(@"^«.*gateway.*clientId.*»$", gateway["AZURE_CLIENT_ID"]);
        Assert.DoesNotContain(gateway.Keys, k => k.Contains("SigningKey", StringComparison.Ordinal));

        // The inference app: this tenant's issuers (the gateway's managed identity's, whoever issues the callers' tokens:
        // review 2026-12-07), its own audience, and exactly the gateway identity's two ids.
        if (callersAuthority.Length > 0)
        {
            Assert.Equal(callersAuthority, gateway["ServerlessServe__Identity__Authority"]);
        }

        Assert.Equal("«environment().authentication.loginEndpoint»«tenant().tenantId»/v2.0", inference["ServerlessServe__ServiceAuth__Authority"]);
        Assert.Equal("https://sts.windows.net/«tenant().tenantId»/", inference["ServerlessServe__ServiceAuth__Issuers__0"]);
        Assert.Equal(inference["ServerlessServe__ServiceAuth__Authority"], inference["ServerlessServe__ServiceAuth__Issuers__1"]);
        Assert.Equal("api://serverlessserve-inference", inference["ServerlessServe__ServiceAuth__Audiences__0"]);
        Assert.Equal(secondAudience, inference["ServerlessServe__ServiceAuth__Audiences__1"]);
        Assert.Matches(@"^«.*gateway.*clientId.*»$", inference["ServerlessServe__ServiceAuth__AllowedIdentities__0"]);
        Assert.Matches(@"^«.*gateway.*principalId.*»$", inference["ServerlessServe__ServiceAuth__AllowedIdentities__1"]);
        Assert.Equal(gateway["AZURE_CLIENT_ID"], inference["ServerlessServe__ServiceAuth__AllowedIdentities__0"]);
        Assert.DoesNotContain(inference, e => e.Value.Contains("inference-identity", StringComparison.Ordinal) && e.Key.StartsWith("ServerlessServe__ServiceAuth__AllowedIdentities", StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_InferenceAppWithoutGpu_SelectsCpu()
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["gpuEnabled"] = false;
        var app = Assert.Single(TemplateEvaluator.Evaluate(fixture.Template, parameters), r => r.IsType("Microsoft.App/containerApps"));

        Assert.Equal("Consumption", app.Body.Get("properties.workloadProfileName").AsString());
        var env = app.Body.Get("properties.template.containers")!.AsArray()[0].Get("env").Items();
        Assert.Contains(env, e => e.Get("name").IsString("ServerlessServe__Inference__ExecutionProvider") && e.Get("value").IsString("Cpu"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(Pem)]
    [InlineData("LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrdwotLS0tLUVORCBQVUJMSUMgS0VZLS0tLS0=")]
    public void Evaluate_ModelSignerKey_ReachesBothAppsAsPemWhetherGivenAsPemOrBase64(string given)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["modelSignerPublicKeyPem"] = given;
        var resources = TemplateEvaluator.Evaluate(fixture.Template, parameters);
        var expected = given.Length == 0 ? string.Empty : Pem;

        var site = Assert.Single(resources, Sites.IsGateway);
        Assert.Contains(site.Body.Get("properties.siteConfig.appSettings").Items(), s => s.Get("name").IsString("ServerlessServe__Models__TrustedSignerPems__0") && s.Get("value").AsString() == expected);
        var app = Assert.Single(resources, r => r.IsType("Microsoft.App/containerApps"));
        Assert.Contains(app.Body.Get("properties.template.containers")!.AsArray()[0].Get("env").Items(), e => e.Get("name").IsString("ServerlessServe__Models__TrustedSignerPems__0") && e.Get("value").AsString() == expected);
    }

    /// <summary>
    /// Both apps: no landing page, and the Functions host's body limit is the app's own. The gateway's is the caller's
    /// body limit; the inference app's is what the gateway forwards, the binary encoding of the gateway's element cap
    /// (ProtocolLimits.BinaryBodyLimit: the element cap at 8 bytes each, plus the caller's limit for BYTES content, plus
    /// 1 MiB of header; 51,380,224 bytes by default).
    /// </summary>
    [Theory]
    [InlineData(null, "16777216", "51380224")]
    [InlineData(1048576, "1048576", "35651584")]
    [InlineData(67108864, "67108864", "101711872")]
    public void Evaluate_FunctionsHostSettings_BothAppsNoLandingPageAndTheHostsBodyLimitIsTheAppsOwn(int? maxRequestBodyBytes, string expected, string forwarded)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        if (maxRequestBodyBytes is { } bytes)
        {
            parameters["maxRequestBodyBytes"] = bytes;
        }

        var resources = TemplateEvaluator.Evaluate(fixture.Template, parameters);
        var site = Assert.Single(resources, Sites.IsGateway);
        var app = Assert.Single(resources, r => r.IsType("Microsoft.App/containerApps"));
        // The inference app is configured with the caller's limit and derives the forwarded one from it, the host's
        // (ReadWiringTests.InferenceAppBodyLimit_AtLeastWhatTheGatewayForwards: 16 MiB gives 51,380,224, 64 MiB gives
        // 101,711,872); configured with the forwarded one, it raised it a second time.
        foreach (var (settings, host, own) in new[]
                 {
                     (site.Body.Get("properties.siteConfig.appSettings").Items(), expected, expected),
                     (app.Body.Get("properties.template.containers")!.AsArray()[0].Get("env").Items(), forwarded, expected),
                 })
        {
            var values = settings.ToDictionary(s => s.Get("name").Render(), s => s.Get("value")?.Render(), StringComparer.Ordinal);
            Assert.Equal("true", values["AzureWebJobsDisableHomepage"]);
            Assert.Equal(host, values["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"]);
            Assert.Equal(own, values["ServerlessServe__Protocol__MaxBodyBytes"]);
        }
    }

    [Fact]
    public void Parameters_AzdParameterFile_NamesOnlyTemplateParameters()
    {
        var file = JsonNode.Parse(File.ReadAllText(BicepCli.InfraPath("main.parameters.json")))!;
        var declared = fixture.Template.Get("parameters")!.AsObject().Select(p => p.Key).ToHashSet(StringComparer.Ordinal);

        Assert.All(file.Get("parameters")!.AsObject().Select(p => p.Key), name => Assert.Contains(name, declared));
    }

    private static Dictionary<string, string> GatewaySettings(Policy.PolicyContext context)
    {
        var site = Assert.Single(context.OfType("Microsoft.Web/sites"), Sites.IsGateway);
        return site.Body.Get("properties.siteConfig.appSettings").Items()
            .ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);
    }

    private const string Pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----";

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex UpperSnake();
}
