using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

public static partial class SecurityPolicy
{
    private const string Sites = "Microsoft.Web/sites";
    private const string ContainerApps = "Microsoft.App/containerApps";

    public static PolicyRule AppSettingsHoldNoKeys { get; } = new(
        "app-settings-hold-no-keys",
        "No app setting, connection string, container env var or container app secret holds an account key, a SAS or a keyed connection string.",
        ctx => AppSettings(ctx)
            .Where(s => KeyMaterial().IsMatch(s.Value) || string.Equals(s.Name, "ServerlessServe__Storage__ConnectionString", StringComparison.OrdinalIgnoreCase))
            .Select(s => new Violation("app-settings-hold-no-keys", s.Resource.ToString(), $"setting '{s.Name}' holds key material or a storage connection string")));

    /// <summary>Settings named like keys that hold public keys: PEM public keys are not secrets.</summary>
    public static IReadOnlySet<string> PublicKeySettings { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "ServerlessServe__Identity__IssuerPublicKeyPems",
        "ServerlessServe__ServiceToken__TrustedKeyPems",
        "ServerlessServe__Models__TrustedSignerPems",
    };

    public static PolicyRule SecretsOnlyViaKeyVaultReferences { get; } = new(
        "secrets-only-via-key-vault-references",
        "An app setting or container env var whose name ends in Key, KeyPem, Secret or Password (list indexes __N aside) is a Key Vault reference, unless it is a listed public-key setting.",
        ctx => AppSettings(ctx, resolveSecretRefs: true)
            .Where(s => SecretName().IsMatch(s.Name)
                && !PublicKeySettings.Contains(ListIndex().Replace(s.Name, string.Empty))
                && !KeyVaultReference().IsMatch(s.Value))
            .Select(s => new Violation("secrets-only-via-key-vault-references", s.Resource.ToString(), $"setting '{s.Name}' is named like a secret but is not a Key Vault reference")));

    public static PolicyRule FunctionAppHttpsAndFtpOff { get; } = new(
        "function-app-https-and-ftp-off",
        "Every Function App is HTTPS-only with TLS 1.2, FTP disabled and basic publishing credentials (FTP and SCM) off.",
        ctx => FunctionApps(ctx).SelectMany(site =>
        {
            const string id = "function-app-https-and-ftp-off";
            var violations = RequireTrue(id, site, "properties.httpsOnly")
                .Concat(RequireString(id, site, "properties.siteConfig.ftpsState", "Disabled"))
                .Concat(RequireString(id, site, "properties.siteConfig.minTlsVersion", "1.2"));
            foreach (var kind in new[] { "ftp", "scm" })
            {
                var policy = ctx.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
                    .FirstOrDefault(p => string.Equals(p.Name, $"{site.Name}/{kind}", StringComparison.OrdinalIgnoreCase));
                violations = violations.Concat(policy is null
                    ? [new Violation(id, site.ToString(), $"no basicPublishingCredentialsPolicies/{kind} turning basic authentication off")]
                    : RequireFalse(id, policy, "properties.allow"));
            }

            return violations;
        }));

    public static PolicyRule FunctionAppOutboundThroughVnet { get; } = new(
        "function-app-outbound-through-vnet",
        "With the VNet, every Function App is VNet-integrated and routes all outbound traffic through the VNet.",
        ctx => !ctx.VnetEnabled ? [] : FunctionApps(ctx).SelectMany(site =>
        {
            const string id = "function-app-outbound-through-vnet";
            var subnet = site.Body.Get("properties.virtualNetworkSubnetId");
            var routeAll = site.Body.Get("properties.outboundVnetRouting.allTraffic").IsTrue()
                || site.Body.Get("properties.siteConfig.vnetRouteAllEnabled").IsTrue()
                || site.Body.Get("properties.vnetRouteAllEnabled").IsTrue();
            var violations = new List<Violation>();
            if (string.IsNullOrEmpty(subnet.AsString()))
            {
                violations.Add(new Violation(id, site.ToString(), $"properties.virtualNetworkSubnetId must name a subnet but is {subnet.Describe()}"));
            }

            if (!routeAll)
            {
                violations.Add(new Violation(id, site.ToString(), "outbound traffic is not all routed through the VNet (outboundVnetRouting.allTraffic / vnetRouteAllEnabled)"));
            }

            return violations;
        }));

    public static PolicyRule InferenceIngressInternal { get; } = new(
        "inference-ingress-internal",
        "With the VNet, container apps have no external ingress and their environments are internal.",
        ctx => !ctx.VnetEnabled ? [] :
            ctx.OfType(ContainerApps)
                .Where(app => app.Body.Get("properties.configuration.ingress") is not null)
                .SelectMany(app => RequireFalse("inference-ingress-internal", app, "properties.configuration.ingress.external"))
                .Concat(ctx.OfType("Microsoft.App/managedEnvironments")
                    .SelectMany(env => RequireTrue("inference-ingress-internal", env, "properties.vnetConfiguration.internal"))));

    public static PolicyRule KeyVaultRbacAndPurgeProtection { get; } = new(
        "key-vault-rbac-and-purge-protection",
        "Every Key Vault uses Azure RBAC (no access policies) with purge protection; with the VNet, public access is disabled.",
        ctx => ctx.OfType("Microsoft.KeyVault/vaults").SelectMany(vault =>
            RequireTrue("key-vault-rbac-and-purge-protection", vault, "properties.enableRbacAuthorization")
                .Concat(RequireTrue("key-vault-rbac-and-purge-protection", vault, "properties.enablePurgeProtection"))
                .Concat(ctx.VnetEnabled
                    ? RequireString("key-vault-rbac-and-purge-protection", vault, "properties.publicNetworkAccess", "Disabled")
                    : [])));

    public static PolicyRule RegistryAdminUserDisabled { get; } = new(
        "registry-admin-user-disabled",
        "Every container registry has the admin user disabled (pulls use managed identities).",
        ctx => ctx.OfType("Microsoft.ContainerRegistry/registries").SelectMany(r =>
            RequireFalse("registry-admin-user-disabled", r, "properties.adminUserEnabled")));

    public static PolicyRule MonitoringLocalAuthDisabled { get; } = new(
        "monitoring-local-auth-disabled",
        "Application Insights and Log Analytics accept Entra-authenticated ingestion only (local auth off).",
        ctx => ctx.OfType("Microsoft.Insights/components")
            .SelectMany(r => RequireTrue("monitoring-local-auth-disabled", r, "properties.DisableLocalAuth"))
            .Concat(ctx.OfType("Microsoft.OperationalInsights/workspaces")
                .SelectMany(r => RequireTrue("monitoring-local-auth-disabled", r, "properties.features.disableLocalAuth"))));

    private static IEnumerable<DeployedResource> FunctionApps(PolicyContext ctx) =>
        ctx.OfType(Sites).Where(s => s.Body.Get("kind").AsString()?.Contains("functionapp", StringComparison.OrdinalIgnoreCase) == true);

    private sealed record Setting(DeployedResource Resource, string Name, string Value);

    /// <summary>
    /// Every named value an app is configured with, wherever the template puts it. With
    /// <paramref name="resolveSecretRefs"/>, a container env var that names a container app secret
    /// (<c>secretRef</c>) takes that secret's value, or <c>@Microsoft.KeyVault(SecretUri=...)</c> when the
    /// secret is a Key Vault reference (<c>keyVaultUrl</c>); the secrets themselves are not listed.
    /// </summary>
    private static IEnumerable<Setting> AppSettings(PolicyContext ctx, bool resolveSecretRefs = false)
    {
        foreach (var site in ctx.OfType(Sites))
        {
            foreach (var s in site.Body.Get("properties.siteConfig.appSettings").Items())
            {
                yield return new Setting(site, s.Get("name").Render(), s.Get("value").Render());
            }

            foreach (var s in site.Body.Get("properties.siteConfig.connectionStrings").Items())
            {
                yield return new Setting(site, s.Get("name").Render(), s.Get("connectionString").Render());
            }
        }

        foreach (var config in ctx.OfType("Microsoft.Web/sites/config"))
        {
            foreach (var (name, value) in config.Properties as JsonObject ?? [])
            {
                yield return new Setting(config, name, value is JsonObject o ? o.Get("value").Render() : value.Render());
            }
        }

        foreach (var app in ctx.Resources.Where(r => r.IsType(ContainerApps) || r.IsType("Microsoft.App/jobs")))
        {
            var secrets = app.Body.Get("properties.configuration.secrets").Items().ToList();
            foreach (var container in app.Body.Get("properties.template.containers").Items())
            {
                foreach (var env in container.Get("env").Items())
                {
                    var value = env.Get("value").Render();
                    if (resolveSecretRefs && env.Get("secretRef").AsString() is { } secretRef)
                    {
                        var secret = secrets.FirstOrDefault(x => x.Get("name").IsString(secretRef));
                        value = secret?.Get("keyVaultUrl").AsString() is { Length: > 0 } url
                            ? $"@Microsoft.KeyVault(SecretUri={url})"
                            : secret?.Get("value").Render() ?? string.Empty;
                    }

                    yield return new Setting(app, env.Get("name").Render(), value);
                }
            }

            if (resolveSecretRefs)
            {
                continue;
            }

            foreach (var secret in secrets)
            {
                yield return new Setting(app, secret.Get("name").Render(), secret.Get("value").Render());
            }
        }
    }

    // Account keys, SAS tokens, keyed connection strings, and ARM functions that return them.
    [GeneratedRegex(@"AccountKey=|SharedAccessSignature=|SharedAccessKey=|[?&]sig=|DefaultEndpointsProtocol=|UseDevelopmentStorage=|\blist(Keys|AccountSas|ServiceSas|ConnectionStrings|Secrets|Credentials?)\(", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyMaterial();

    // Ends in Key, KeyPem, Secret or Password, optionally plural and with a list index (__0).
    [GeneratedRegex(@"(Key|KeyPem|Secret|Password)s?(__\d+)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"__\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex ListIndex();

    // An App Service Key Vault reference; the vault URI may be known only at deployment («...»).
    [GeneratedRegex(@"^@Microsoft\.KeyVault\((SecretUri=https://|SecretUri=«|VaultName=).+\)$", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex KeyVaultReference();
}
