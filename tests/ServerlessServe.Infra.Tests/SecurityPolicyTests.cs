using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Bicep;
using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// Every rule of <see cref="SecurityPolicy"/> against the compiled main template (with and without the
/// VNet), and against a deliberately non-compliant template in TestData that it must reject.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed class SecurityPolicyTests(CompiledTemplateFixture fixture)
{
    /// <summary>Rule id, TestData file that breaks it, text that names the offending resource.</summary>
    public static TheoryData<string, string, string> NonCompliantCases { get; } = new()
    {
        { "storage-shared-key-disabled", "storage-shared-key-enabled.json", "stsharedkey" },
        { "storage-minimum-tls-1-2", "storage-tls-1-0.json", "sttls10" },
        { "storage-https-only", "storage-http-allowed.json", "sthttp" },
        { "storage-public-access-disabled", "storage-public-network.json", "stpublic" },
        { "models-container-version-immutable", "models-container-mutable.json", "stmutable/default/models" },
        { "audit-container-retention-append-only", "audit-container-rewritable.json", "strewrite/default/audit" },
        { "app-settings-hold-no-keys", "app-setting-account-key.json", "func-leaky" },
        { "secrets-only-via-key-vault-references", "app-setting-plain-secret.json", "func-plainsecret" },
        { "role-assignments-use-allowed-roles", "role-not-allowed.json", "00000000-0000-0000-0000-00000000a110" },
        { "role-assignments-scoped-below-resource-group", "role-at-resource-group.json", "00000000-0000-0000-0000-0000000000a9" },
        { "no-privileged-roles", "role-owner.json", "00000000-0000-0000-0000-00000000b055" },
        { "function-app-https-and-ftp-off", "function-app-ftp-enabled.json", "func-ftp" },
        { "function-app-outbound-through-vnet", "function-app-outside-vnet.json", "func-public" },
        { "inference-ingress-internal", "container-app-external-ingress.json", "ca-public" },
        { "key-vault-rbac-and-purge-protection", "key-vault-access-policies.json", "kv-legacy" },
        { "app-subnet-nsg-denies-internet-last", "nsg-allows-internet.json", "nsg-open" },
        { "registry-admin-user-disabled", "registry-admin-user.json", "cradmin" },
        { "monitoring-local-auth-disabled", "monitoring-local-auth.json", "appi-keyed" },
    };

    public static TheoryData<string> RuleIds { get; } = new(SecurityPolicy.Rules.Select(r => r.Id));

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Rule_MainTemplateWithVnet_HasNoViolations(string ruleId) =>
        AssertCompliant(SecurityPolicy.Get(ruleId), fixture.WithVnet);

    [Theory]
    [MemberData(nameof(RuleIds))]
    public void Rule_MainTemplateWithoutVnet_HasNoViolations(string ruleId)
    {
        var rule = SecurityPolicy.Get(ruleId);
        if (rule == SecurityPolicy.InferenceIngressInternal)
        {
            // Without a VNet the environment cannot be internal: the documented development posture.
            Assert.Empty(rule.Evaluate(fixture.WithoutVnet));
            var app = Assert.Single(fixture.WithoutVnet.OfType("Microsoft.App/containerApps"));
            Assert.True(app.Body.Get("properties.configuration.ingress.external").IsTrue());
            return;
        }

        AssertCompliant(rule, fixture.WithoutVnet);
    }

    [Theory]
    [MemberData(nameof(NonCompliantCases))]
    public void Rule_NonCompliantTemplate_ReportsOffendingResource(string ruleId, string file, string offender)
    {
        var context = LoadTestData(file);

        var violations = SecurityPolicy.Get(ruleId).Evaluate(context);

        Assert.NotEmpty(violations);
        Assert.All(violations, v => Assert.Equal(ruleId, v.Rule));
        Assert.Contains(violations, v => v.Resource.Contains(offender, StringComparison.Ordinal));
    }

    [Fact]
    public void NonCompliantCases_CoverEveryRule_ExactlyOnce()
    {
        var covered = NonCompliantCases.Select(row => (string)row[0]).ToList();
        Assert.Equal(SecurityPolicy.Rules.Select(r => r.Id).Order(), covered.Order());
    }

    [Fact]
    public void SecretsOnlyViaKeyVaultReferences_FlagsPlainSecretsOnly()
    {
        var violations = SecurityPolicy.SecretsOnlyViaKeyVaultReferences.Evaluate(LoadTestData("app-setting-plain-secret.json"));

        // Plain values (an app setting, a literal container app secret, a plain env var) are flagged; a Key
        // Vault reference, a Key Vault-backed container app secret and a listed public key are not.
        Assert.Equal(
            new[] { "ServerlessServe__Audit__PseudonymKey", "ServerlessServe__ServiceToken__SigningKeyPem", "Other__API_KEY" },
            violations.Select(v => v.Reason.Split('\'')[1]));
        Assert.All(violations, v => Assert.DoesNotContain("c2VjcmV0", v.Reason, StringComparison.Ordinal));
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
