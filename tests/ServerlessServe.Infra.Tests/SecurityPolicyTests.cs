using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;
using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// Every rule of <see cref="SecurityPolicy"/> against the compiled main template (with and without the
/// VNet), and the finer distinctions of some rules (what they flag and what they let pass) on small templates. That
/// each rule rejects the real template with one property broken is <see cref="Mutations.PolicyMutationTests"/>.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed class SecurityPolicyTests(CompiledTemplateFixture fixture)
{
    public static TheoryData<string> RuleIds { get; } = new(SecurityPolicy.Rules.Select(r => r.Id));

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Rule_MainTemplateWithVnet_HasNoViolations(string ruleId) =>
        AssertCompliant(SecurityPolicy.Get(ruleId), fixture.WithVnet);

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Rule_MainTemplateWithoutVnet_HasNoViolations(string ruleId) =>
        AssertCompliant(SecurityPolicy.Get(ruleId), fixture.WithoutVnet);

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Rule_MainTemplateOnCpu_HasNoViolations(string ruleId)
    {
        // gpuEnabled=false is a supported path (regions without serverless GPUs): the same rules hold.
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["gpuEnabled"] = false;
        var context = new PolicyContext(TemplateEvaluator.Evaluate(fixture.Template, parameters), VnetEnabled: true);

        AssertCompliant(SecurityPolicy.Get(ruleId), context);
        var app = Assert.Single(context.OfType("Microsoft.App/containerApps"));
        Assert.Equal("Consumption", app.Body.Get("properties.workloadProfileName").AsString());
    }

    [Fact]
    public void WithoutVnet_InferenceIngressIsPublicAndUnrestricted()
    {
        // The documented development posture: the gateway reaches the app over its public FQDN from addresses it does
        // not own, so no IP rule can name it; the app relies on its own token validation.
        var app = Assert.Single(fixture.WithoutVnet.OfType("Microsoft.App/containerApps"));
        Assert.True(app.Body.Get("properties.configuration.ingress.external").IsTrue());
        Assert.Empty(app.Body.Get("properties.configuration.ingress.ipSecurityRestrictions").Items());
    }

    [Fact]
    public void SecretsOnlyViaKeyVaultReferences_FlagsPlainSecretsOnly()
    {
        var violations = SecurityPolicy.SecretsOnlyViaKeyVaultReferences.Evaluate(LoadTestData("app-setting-plain-secret.json"));

        // Plain values (an app setting, a literal container app secret, a plain env var) are flagged; a Key
        // Vault reference, a Key Vault-backed container app secret and a listed public key are not.
        Assert.Equal(
            new[] { "ServerlessServe__Audit__PseudonymKey", "ServerlessServe__Audit__CheckpointKeyPem", "Other__API_KEY" },
            violations.Select(v => v.Reason.Split('\'')[1]));
        Assert.All(violations, v => Assert.DoesNotContain("c2VjcmV0", v.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void FunctionHostStorageIdentityBased_FlagsConnectionStringForeignEndpointAndMissingSettings()
    {
        var violations = SecurityPolicy.FunctionHostStorageIdentityBased.Evaluate(LoadTestData("function-host-storage-connection-string.json"));

        Assert.Equal(
            [
                ("func-connstr", "'AzureWebJobsStorage' is a connection string"),
                ("func-connstr", "'AzureWebJobsStorage__blobServiceUri' is missing"),
                ("func-connstr", "'AzureWebJobsStorage__queueServiceUri' is missing"),
                ("func-connstr", "'AzureWebJobsStorage__tableServiceUri' is missing"),
                // The blob endpoint is the declared account's own: accepted. The queue is elsewhere.
                ("func-elsewhere", "'AzureWebJobsStorage__queueServiceUri' is not the queue endpoint of a storage account this deployment declares"),
                ("func-elsewhere", "'AzureWebJobsStorage__tableServiceUri' is missing"),
                ("func-elsewhere", "the identity is user-assigned but 'AzureWebJobsStorage__clientId' is not set"),
            ],
            violations.Select(v => (v.Resource.Split('\'')[1], v.Reason.Split([" (", ";", ", so"], StringSplitOptions.None)[0])));
    }

    [Fact]
    public void BlobContainersPrivate_FlagsPublicAndUnstatedAccess()
    {
        var violations = SecurityPolicy.BlobContainersPrivate.Evaluate(LoadTestData("container-public-blob.json"));

        Assert.Collection(
            violations,
            v => Assert.Contains("stpublicblob/default/web", v.Resource, StringComparison.Ordinal),
            v => Assert.Contains("stpublicblob/default/unstated", v.Resource, StringComparison.Ordinal));
    }

    [Fact]
    public void JobPayloadsExpire_CompliantAccount_HasNoViolations() =>
        Assert.Empty(SecurityPolicy.JobPayloadsExpire.Evaluate(PayloadAccount(_ => { })));

    [Theory]
    [MemberData(nameof(PayloadExpiryBreaks))]
    public void JobPayloadsExpire_EachWayOfKeepingPayloads_IsFlagged(string change)
    {
        var violations = SecurityPolicy.JobPayloadsExpire.Evaluate(PayloadAccount(PayloadExpiryMutations[change]));

        var violation = Assert.Single(violations);
        Assert.Contains("stpayloads/default/job-payloads", violation.Resource, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("17d1049b-9a84-46fb-8f53-869881c3d3ab", "Storage Account Contributor")]
    [InlineData("81a9662b-bebf-436f-a333-f67b29880f12", "Storage Account Key Operator Service Role")]
    [InlineData("c12c1c16-33a1-487b-954d-41c89c60f349", "Reader and Data Access")]
    public void NoPrivilegedRoles_RoleThatReadsStorageKeys_IsFlagged(string roleId, string roleName)
    {
        var assignment = new JsonObject
        {
            ["type"] = "Microsoft.Authorization/roleAssignments",
            ["name"] = "00000000-0000-0000-0000-0000000000c1",
            ["scope"] = "[resourceId('Microsoft.Storage/storageAccounts', 'strt')]",
            ["properties"] = new JsonObject
            {
                ["principalId"] = "11111111-1111-1111-1111-111111111111",
                ["roleDefinitionId"] = $"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{roleId}')]",
            },
        };
        var template = new JsonObject { ["resources"] = new JsonArray(assignment) };
        var context = new PolicyContext(TemplateEvaluator.Evaluate(template, new Dictionary<string, JsonNode?>(), DeploymentScope.ResourceGroup), VnetEnabled: true);

        var violation = Assert.Single(SecurityPolicy.NoPrivilegedRoles.Evaluate(context));
        Assert.Equal($"assigns {roleName}", violation.Reason);
    }

    /// <summary>Ways a template can keep claim-check payloads beyond their retention, each applied to a compliant account.</summary>
    private static readonly Dictionary<string, Action<JsonObject>> PayloadExpiryMutations = new()
    {
        ["no lifecycle policy"] = t => t["resources"]!.AsArray().RemoveAt(2),
        ["rule disabled"] = t => Rule(t)["enabled"] = false,
        ["rule for another container"] = t => Rule(t)["definition"]!["filters"]!["prefixMatch"] = new JsonArray("models/"),
        ["rule for append blobs only"] = t => Rule(t)["definition"]!["filters"]!["blobTypes"] = new JsonArray("appendBlob"),
        ["days not known before deployment"] = t => Rule(t)["definition"]!["actions"]!["baseBlob"]!["delete"]!["daysAfterCreationGreaterThan"] = "[reference('settings').days]",
        ["versions kept"] = t => Rule(t)["definition"]!["actions"]!.AsObject().Remove("version"),
        ["container immutable"] = t => t["resources"]!.AsArray().Add(new JsonObject
        {
            ["type"] = "Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies",
            ["name"] = "stpayloads/default/job-payloads/default",
            ["properties"] = new JsonObject { ["immutabilityPeriodSinceCreationInDays"] = 7 },
        }),
    };

    public static TheoryData<string> PayloadExpiryBreaks { get; } = new(PayloadExpiryMutations.Keys);

    private static JsonObject Rule(JsonObject template) =>
        template["resources"]![2]!["properties"]!["policy"]!["rules"]![0]!.AsObject();

    /// <summary>A compliant claim-check account (versioning on, a rule for base blobs and versions), changed by <paramref name="change"/>.</summary>
    private static PolicyContext PayloadAccount(Action<JsonObject> change)
    {
        var template = JsonNode.Parse(
            """
            {
              "resources": [
                { "type": "Microsoft.Storage/storageAccounts/blobServices", "name": "stpayloads/default", "properties": { "isVersioningEnabled": true } },
                { "type": "Microsoft.Storage/storageAccounts/blobServices/containers", "name": "stpayloads/default/job-payloads", "properties": { "publicAccess": "None" } },
                { "type": "Microsoft.Storage/storageAccounts/managementPolicies", "name": "stpayloads/default",
                  "properties": { "policy": { "rules": [ {
                    "name": "expire", "enabled": true, "type": "Lifecycle",
                    "definition": {
                      "filters": { "blobTypes": [ "blockBlob" ], "prefixMatch": [ "job-payloads/" ] },
                      "actions": {
                        "baseBlob": { "delete": { "daysAfterCreationGreaterThan": 7 } },
                        "version": { "delete": { "daysAfterCreationGreaterThan": 7 } }
                      }
                    }
                  } ] } } }
              ]
            }
            """)!.AsObject();
        change(template);
        return new PolicyContext(TemplateEvaluator.Evaluate(template, new Dictionary<string, JsonNode?>(), DeploymentScope.ResourceGroup), VnetEnabled: true);
    }

    [Fact]
    public void Rule_ValueUnknownBeforeDeployment_FailsClosed()
    {
        // httpsOnly comes from another deployment's output: it cannot be checked, so it is not accepted.
        var site = new JsonObject
        {
            ["type"] = "Microsoft.Web/sites",
            ["name"] = "func-unknown",
            ["kind"] = "functionapp,linux",
            ["properties"] = new JsonObject
            {
                ["httpsOnly"] = "[reference('other').outputs.https.value]",
                ["siteConfig"] = new JsonObject { ["ftpsState"] = "Disabled", ["minTlsVersion"] = "1.2" },
            },
        };
        var template = new JsonObject { ["resources"] = new JsonArray(site) };
        var context = new PolicyContext(TemplateEvaluator.Evaluate(template, new Dictionary<string, JsonNode?>(), DeploymentScope.ResourceGroup), VnetEnabled: true);

        var violations = SecurityPolicy.FunctionAppHttpsAndFtpOff.Evaluate(context);

        Assert.Contains(violations, v => v.Reason.Contains("properties.httpsOnly", StringComparison.Ordinal) && v.Reason.Contains("not known before deployment", StringComparison.Ordinal));
    }

    private static PolicyContext LoadTestData(string file)
    {
        var path = Path.Combine(BicepCli.RepositoryRoot, "tests", "ServerlessServe.Infra.Tests", "TestData", file);
        var template = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var scope = template.Get("$schema").AsString()?.Contains("subscriptionDeploymentTemplate", StringComparison.Ordinal) == true
            ? DeploymentScope.Subscription
            : DeploymentScope.ResourceGroup;
        return new PolicyContext(TemplateEvaluator.Evaluate(template, new Dictionary<string, JsonNode?>(), scope), VnetEnabled: true);
    }

    private static void AssertCompliant(PolicyRule rule, PolicyContext context)
    {
        var violations = rule.Evaluate(context);
        Assert.True(violations.Count == 0, $"{rule.Id}: {rule.Description}\n{string.Join('\n', violations)}");
    }
}
