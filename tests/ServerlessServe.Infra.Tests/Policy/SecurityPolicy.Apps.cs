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

    public static PolicyRule FunctionHostStorageIdentityBased { get; } = new(
        "function-host-storage-identity-based",
        "Every Function App, on App Service or on Container Apps (kind functionapp), reaches its host storage (AzureWebJobsStorage, also the Durable task hub) with its managed identity: no connection string; the blob, queue and table endpoints (or the account name) of a storage account this deployment declares, so that its shared-key setting is checked too; a client ID when the identity is user-assigned only. A Functions host on Container Apps also names where its host keys are kept (AzureWebJobsSecretStorageType): it does not start without storage for them.",
        ctx => FunctionApps(ctx).SelectMany(site => CheckHostStorage(ctx, site, SiteSettings(ctx, site)))
            .Concat(ctx.OfType(ContainerApps)
                .Where(app => app.Body.Get("kind").AsString()?.Contains("functionapp", StringComparison.OrdinalIgnoreCase) == true)
                .SelectMany(app => CheckContainerHost(ctx, app))));

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

    private static IEnumerable<Violation> CheckContainerHost(PolicyContext ctx, DeployedResource app)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var env in app.Body.Get("properties.template.containers").Items().SelectMany(c => c.Get("env").Items()))
        {
            settings[env.Get("name").Render()] = env.Get("value").Render();
        }

        foreach (var violation in CheckHostStorage(ctx, app, settings))
        {
            yield return violation;
        }

        if (!settings.TryGetValue("AzureWebJobsSecretStorageType", out var secrets) || !HostSecretStores.Contains(secrets, StringComparer.OrdinalIgnoreCase))
        {
            yield return new Violation("function-host-storage-identity-based", app.ToString(), $"'AzureWebJobsSecretStorageType' is {(secrets is null ? "missing" : $"'{secrets}'")}: a Functions host on Container Apps needs one of {string.Join(", ", HostSecretStores)}");
        }
    }

    /// <summary>Where a Functions host can keep its keys.</summary>
    private static readonly string[] HostSecretStores = ["files", "blob", "keyvault", "kubernetes"];

    private static IEnumerable<Violation> CheckHostStorage(PolicyContext ctx, DeployedResource site, Dictionary<string, string> settings)
    {
        const string id = "function-host-storage-identity-based";
        if (settings.ContainsKey("AzureWebJobsStorage"))
        {
            yield return new Violation(id, site.ToString(), "'AzureWebJobsStorage' is a connection string; the host must connect with AzureWebJobsStorage__* identity settings");
        }

        var accounts = ctx.OfType(StorageAccounts).ToList();
        if (settings.TryGetValue("AzureWebJobsStorage__accountName", out var accountName))
        {
            if (!accounts.Any(a => string.Equals(a.Name, accountName, StringComparison.OrdinalIgnoreCase)))
            {
                yield return new Violation(id, site.ToString(), $"'AzureWebJobsStorage__accountName' names '{accountName}', not a storage account this deployment declares");
            }
        }
        else
        {
            // The host uses blobs and queues; the Durable Azure Storage provider also uses tables.
            foreach (var service in new[] { "blob", "queue", "table" })
            {
                var name = $"AzureWebJobsStorage__{service}ServiceUri";
                if (!settings.TryGetValue(name, out var uri) || uri.Length == 0)
                {
                    yield return new Violation(id, site.ToString(), $"'{name}' is missing (host storage and the Durable task hub use blob, queue and table)");
                }
                else if (!accounts.Any(a => IsEndpointOf(uri, a, service)))
                {
                    yield return new Violation(id, site.ToString(), $"'{name}' is not the {service} endpoint of a storage account this deployment declares, so nothing shows that it refuses shared keys");
                }
            }
        }

        var identity = site.Body.Get("identity.type").AsString() ?? string.Empty;
        if (identity.Contains("UserAssigned", StringComparison.OrdinalIgnoreCase) && !identity.Contains("SystemAssigned", StringComparison.OrdinalIgnoreCase))
        {
            if (!settings.TryGetValue("AzureWebJobsStorage__credential", out var credential) || !string.Equals(credential, "managedidentity", StringComparison.OrdinalIgnoreCase))
            {
                yield return new Violation(id, site.ToString(), "the identity is user-assigned but 'AzureWebJobsStorage__credential' is not 'managedidentity'");
            }

            if (!settings.TryGetValue("AzureWebJobsStorage__clientId", out var clientId) || clientId.Length == 0)
            {
                yield return new Violation(id, site.ToString(), "the identity is user-assigned but 'AzureWebJobsStorage__clientId' is not set");
            }
        }
    }

    /// <summary>A site's app settings, from siteConfig and from a sites/config 'appsettings' resource.</summary>
    private static Dictionary<string, string> SiteSettings(PolicyContext ctx, DeployedResource site)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in site.Body.Get("properties.siteConfig.appSettings").Items())
        {
            settings[s.Get("name").Render()] = s.Get("value").Render();
        }

        foreach (var config in ctx.OfType("Microsoft.Web/sites/config").Where(c => string.Equals(c.Name, $"{site.Name}/appsettings", StringComparison.OrdinalIgnoreCase)))
        {
            foreach (var (name, value) in config.Properties as JsonObject ?? [])
            {
                settings[name] = value.Render();
            }
        }

        return settings;
    }

    /// <summary>
    /// Whether a setting's value is <c>reference(&lt;account id&gt;).primaryEndpoints.&lt;service&gt;</c> of the
    /// given account: the only form in which the template itself says which account an endpoint belongs to.
    /// </summary>
    private static bool IsEndpointOf(string value, DeployedResource account, string service)
    {
        var match = PrimaryEndpoint().Match(value);
        return match.Success
            && string.Equals(match.Groups["service"].Value, service, StringComparison.OrdinalIgnoreCase)
            // Inside a term, quotes are doubled (the canonical text of a string argument).
            && match.Groups["id"].Value.Replace("''", "'", StringComparison.Ordinal)
                .EndsWith($"/providers/Microsoft.Storage/storageAccounts/{account.Name}", StringComparison.OrdinalIgnoreCase);
    }

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

    // «reference('<resource id>'[, '<api version>']).primaryEndpoints.<service>»
    [GeneratedRegex(@"^«reference\('(?<id>(?:[^']|'')+)'(?:, '[^']*')?\)\.primaryEndpoints\.(?<service>blob|queue|table)»$", RegexOptions.CultureInvariant)]
    private static partial Regex PrimaryEndpoint();

    // Ends in Key, KeyPem, Secret or Password, optionally plural and with a list index (__0).
    [GeneratedRegex(@"(Key|KeyPem|Secret|Password)s?(__\d+)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"__\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex ListIndex();

    // An App Service Key Vault reference; the vault URI may be known only at deployment («...»).
    [GeneratedRegex(@"^@Microsoft\.KeyVault\((SecretUri=https://|SecretUri=«|VaultName=).+\)$", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex KeyVaultReference();
}
