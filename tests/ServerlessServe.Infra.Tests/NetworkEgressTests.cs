using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// Egress (docs/deploy.md, "Egress"): the firewall mode's resources, the one allow-list shared by the apps' settings and
/// the firewall's application rule, why each host an app may call is reachable at all, and hub DNS zones.
/// </summary>
[Collection(CompiledTemplateCollection.Name)]
public sealed partial class NetworkEgressTests(CompiledTemplateFixture fixture)
{
    private PolicyContext Firewall(IReadOnlyDictionary<string, JsonNode?>? extra = null) => Evaluate(fixture.Template, extra);

    private static PolicyContext Evaluate(JsonObject template, IReadOnlyDictionary<string, JsonNode?>? extra = null)
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["egressMode"] = "firewall";
        foreach (var (key, value) in extra ?? new Dictionary<string, JsonNode?>())
        {
            parameters[key] = value?.DeepClone();
        }

        return new PolicyContext(TemplateEvaluator.Evaluate(template, parameters), VnetEnabled: true);
    }

    [Fact]
    public void FirewallMode_EverySecurityRuleHolds()
    {
        var context = Firewall();

        Assert.All(SecurityPolicy.Rules, rule => Assert.True(rule.Evaluate(context).Count == 0, $"{rule.Id}:\n{string.Join('\n', rule.Evaluate(context))}"));
    }

    /// <summary>
    /// The firewall's logs (every rule applied, the denials included) go to the template's workspace, in
    /// resource-specific tables. Before 2026-12-07 they went nowhere, though the docs sent operators to them.
    /// </summary>
    [Fact]
    public void FirewallMode_FirewallLogsEverythingToTheWorkspace()
    {
        var context = Firewall();
        var workspace = Assert.Single(context.OfType("Microsoft.OperationalInsights/workspaces"));
        var firewall = Assert.Single(context.OfType("Microsoft.Network/azureFirewalls"));

        var setting = Assert.Single(context.OfType("Microsoft.Insights/diagnosticSettings"), d => d.Scope!.EndsWith("/azureFirewalls/" + firewall.Name, StringComparison.Ordinal));

        Assert.EndsWith("/workspaces/" + workspace.Name, setting.Body.Get("properties.workspaceId").AsString(), StringComparison.Ordinal);
        Assert.Equal("Dedicated", setting.Body.Get("properties.logAnalyticsDestinationType").AsString());
        var logs = Assert.Single(setting.Body.Get("properties.logs").Items());
        Assert.Equal("allLogs", logs.Get("categoryGroup").AsString());
        Assert.True(logs.Get("enabled").IsTrue());
    }

    [Fact]
    public void FirewallMode_StandardFirewallInItsSubnet_DefaultRouteOfEveryAppSubnet()
    {
        var context = Firewall();
        var firewall = Assert.Single(context.OfType("Microsoft.Network/azureFirewalls"));
        var policy = Assert.Single(context.OfType("Microsoft.Network/firewallPolicies"));
        var publicIp = Assert.Single(context.OfType("Microsoft.Network/publicIPAddresses"));
        var vnet = Assert.Single(context.OfType("Microsoft.Network/virtualNetworks"));
        var table = Assert.Single(context.OfType("Microsoft.Network/routeTables"));

        Assert.Equal("Standard", firewall.Body.Get("properties.sku.tier").AsString());
        Assert.Equal("AZFW_VNet", firewall.Body.Get("properties.sku.name").AsString());
        Assert.Equal("Standard", policy.Body.Get("properties.sku.tier").AsString());
        Assert.Equal("Deny", policy.Body.Get("properties.threatIntelMode").AsString());
        Assert.EndsWith($"/firewallPolicies/{policy.Name}", firewall.Body.Get("properties.firewallPolicy.id").AsString(), StringComparison.Ordinal);
        Assert.Equal("Standard", publicIp.Body.Get("sku.name").AsString());
        Assert.Equal("Static", publicIp.Body.Get("properties.publicIPAllocationMethod").AsString());
        var ipConfiguration = firewall.Body.Get("properties.ipConfigurations")!.AsArray()[0];
        Assert.EndsWith($"/publicIPAddresses/{publicIp.Name}", ipConfiguration.Get("properties.publicIPAddress.id").AsString(), StringComparison.Ordinal);
        Assert.EndsWith("/subnets/AzureFirewallSubnet", ipConfiguration.Get("properties.subnet.id").AsString(), StringComparison.Ordinal);

        var subnets = vnet.Body.Get("properties.subnets").Items().ToDictionary(s => s.Get("name").Render(), s => s.Get("properties"), StringComparer.Ordinal);
        Assert.EndsWith("/26", subnets["AzureFirewallSubnet"].Get("addressPrefix").AsString(), StringComparison.Ordinal);
        Assert.Null(subnets["AzureFirewallSubnet"].Get("routeTable"));
        Assert.Null(subnets["snet-private-endpoints"].Get("routeTable"));
        Assert.All(
            new[] { "snet-gateway", "snet-admin", "snet-apps" },
            name => Assert.EndsWith($"/routeTables/{table.Name}", subnets[name].Get("routeTable.id").AsString(), StringComparison.Ordinal));
    }

    /// <summary>
    /// The default route is part of the route table's own declaration. Before 2026-12-07 the table was declared without
    /// routes and the firewall module added 0.0.0.0/0 as a child resource: every re-provision sent the table with no
    /// routes, which deleted the route until the firewall module put it back, and the app subnets' traffic went around
    /// the firewall in between. The next hop is the firewall's private address, which Azure gives it from its subnet:
    /// the first address a resource can get there (Azure keeps .0 to .3), so it is known before the firewall exists.
    /// </summary>
    [Fact]
    public void FirewallMode_DefaultRouteIsDeclaredInTheRouteTable_ToTheFirewallsAddress()
    {
        var context = Firewall();
        var firewall = Assert.Single(context.OfType("Microsoft.Network/azureFirewalls"));
        var vnet = Assert.Single(context.OfType("Microsoft.Network/virtualNetworks"));
        var table = Assert.Single(context.OfType("Microsoft.Network/routeTables"));

        Assert.Empty(context.OfType("Microsoft.Network/routeTables/routes"));
        Assert.True(table.Body.Get("properties.disableBgpRoutePropagation").IsTrue());
        var route = Assert.Single(table.Body.Get("properties.routes").Items());
        Assert.Equal("default-via-firewall", route.Get("name").AsString());
        Assert.Equal("0.0.0.0/0", route.Get("properties.addressPrefix").AsString());
        Assert.Equal("VirtualAppliance", route.Get("properties.nextHopType").AsString());
        Assert.Equal("10.40.6.4", route.Get("properties.nextHopIpAddress").AsString());

        // That is the first usable address of the subnet the firewall's IP configuration names.
        var firewallSubnet = firewall.Body.Get("properties.ipConfigurations")!.AsArray()[0].Get("properties.subnet.id").AsString()!;
        var subnetName = firewallSubnet[(firewallSubnet.LastIndexOf('/') + 1)..];
        var prefix = Assert.Single(vnet.Body.Get("properties.subnets").Items(), s => s.Get("name").IsString(subnetName)).Get("properties.addressPrefix").AsString()!;
        Assert.True(Cidr.TryParse(prefix, out var network, out _));
        Assert.Equal(Cidr.Address(network + 4).ToString(), route.Get("properties.nextHopIpAddress").AsString());
    }

    /// <summary>The next hop is computed from the firewall subnet's prefix, not written down: another prefix, another hop.</summary>
    [Theory]
    [InlineData("10.40.7.0/26", "10.40.7.4")]
    [InlineData("10.40.7.64/26", "10.40.7.68")]
    public void FirewallMode_DefaultRouteNextHop_FollowsTheFirewallSubnetPrefix(string prefix, string nextHop)
    {
        var copy = fixture.Template.DeepClone().AsObject();
        TemplateMutation.Set(TemplateMutation.Module(copy, "network"), "parameters.firewallSubnetPrefix.defaultValue", prefix);

        var context = Evaluate(copy);

        var vnet = Assert.Single(context.OfType("Microsoft.Network/virtualNetworks"));
        Assert.Equal(prefix, Assert.Single(vnet.Body.Get("properties.subnets").Items(), s => s.Get("name").IsString("AzureFirewallSubnet")).Get("properties.addressPrefix").AsString());
        var route = Assert.Single(Assert.Single(context.OfType("Microsoft.Network/routeTables")).Body.Get("properties.routes").Items());
        Assert.Equal(nextHop, route.Get("properties.nextHopIpAddress").AsString());
        Assert.Empty(SecurityPolicy.EgressFirewallRoutesAndNamedHosts.Evaluate(context));
    }

    [Fact]
    public void FirewallMode_PolicyAllowsHttpsToNamedHostsOnly()
    {
        var collections = RuleCollections(Firewall());

        Assert.Equal(["apps", "containerApps", "functions"], collections.Select(c => c.Get("name").Render()).Order(StringComparer.Ordinal));
        Assert.All(collections, collection =>
        {
            Assert.Equal("FirewallPolicyFilterRuleCollection", collection.Get("ruleCollectionType").AsString());
            Assert.Equal("Allow", collection.Get("action.type").AsString());
            var rule = Assert.Single(collection.Get("rules").Items());
            Assert.Equal("ApplicationRule", rule.Get("ruleType").AsString());
            var protocol = Assert.Single(rule.Get("protocols").Items());
            Assert.Equal("Https", protocol.Get("protocolType").AsString());
            Assert.Equal(443, protocol.Get("port").AsInteger());
            Assert.All(rule.Get("sourceAddresses").Items(), source => Assert.StartsWith("10.40.", source.AsString(), StringComparison.Ordinal));
            var fqdns = rule.Get("targetFqdns").Items().Select(f => f.Render()).ToList();
            Assert.NotEmpty(fqdns);
            Assert.All(fqdns, fqdn => Assert.Matches(@"^(\*\.)?[a-z0-9«][^*/:]*$", fqdn));
        });

        // The Container Apps platform's required FQDNs (MCR, the AKS packages), and the gateway's own endpoint.
        var byName = collections.ToDictionary(c => c.Get("name").Render(), c => c.Get("rules")!.AsArray()[0].Get("targetFqdns").Items().Select(f => f.Render()).ToList(), StringComparer.Ordinal);
        Assert.Contains("mcr.microsoft.com", byName["containerApps"]);
        Assert.Contains("*.data.mcr.microsoft.com", byName["containerApps"]);
        Assert.Contains("packages.aks.azure.com", byName["containerApps"]);
        Assert.Contains(byName["functions"], f => f.StartsWith("func-gateway-", StringComparison.Ordinal) && f.EndsWith(".scm.azurewebsites.net", StringComparison.Ordinal));
        // No public route to storage, Key Vault or the registry: those are private endpoints.
        Assert.DoesNotContain(byName.Values.SelectMany(f => f), f => f.Contains("core.windows.net", StringComparison.Ordinal) || f.Contains("azurecr.io", StringComparison.Ordinal) || f.Contains("vault", StringComparison.Ordinal));
    }

    [Fact]
    public void NsgMode_NoFirewallNoRouteTable()
    {
        Assert.Empty(fixture.WithVnet.OfType("Microsoft.Network/azureFirewalls"));
        Assert.Empty(fixture.WithVnet.OfType("Microsoft.Network/routeTables"));
        var vnet = Assert.Single(fixture.WithVnet.OfType("Microsoft.Network/virtualNetworks"));
        Assert.All(vnet.Body.Get("properties.subnets").Items(), s => Assert.Null(s.Get("properties.routeTable")));
        Assert.DoesNotContain(vnet.Body.Get("properties.subnets").Items(), s => s.Get("name").IsString("AzureFirewallSubnet"));
    }

    [Fact]
    public void AllowList_AppsSettingsAndFirewallRule_AreOneList()
    {
        Assert.Empty(Divergences(Firewall()));

        var context = Firewall(new Dictionary<string, JsonNode?> { ["egressAllowedHosts"] = new JsonArray("issuer.example.com") });

        Assert.Empty(Divergences(context));
        Assert.Equal(["login.microsoftonline.com", "issuer.example.com"], AllowedHostSettings(Site(context, "gateway")));
        Assert.Equal(["login.microsoftonline.com", "issuer.example.com"], AllowedHostSettings(Site(context, "admin")));
    }

    /// <summary>
    /// The hosts EgressAllowListFactory always adds (its AddRange literals) are the source's own: each public one must
    /// be in infra/egress.json appHosts, or the firewall would refuse what the app allows; link-local ones never reach it.
    /// </summary>
    [Fact]
    public void AllowList_FactoryFixedPublicHosts_AreInEgressJson()
    {
        var factory = File.ReadAllText(Path.Combine(Bicep.BicepCli.RepositoryRoot, "functions", "ServerlessServe.Hosting", "Egress", "EgressAllowListFactory.cs"));
        var fixedHosts = FixedHosts().Matches(factory).SelectMany(m => QuotedText().Matches(m.Groups["list"].Value).Select(q => q.Groups[1].Value)).ToList();
        var appHosts = JsonNode.Parse(File.ReadAllText(Bicep.BicepCli.InfraPath("egress.json")))!["appHosts"]!.AsArray().Select(h => h.Render()).ToList();

        Assert.Equal(["169.254.169.254", "login.microsoftonline.com"], fixedHosts);
        Assert.All(fixedHosts.Where(h => !h.StartsWith("169.254.", StringComparison.Ordinal)), host => Assert.Contains(host, appHosts));
    }

    [GeneratedRegex(@"entries\.AddRange\(\[(?<list>[^\]]*)\]\)", RegexOptions.CultureInvariant)]
    private static partial Regex FixedHosts();

    [GeneratedRegex("\"([^\"]+)\"", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedText();

    [Fact]
    public void AllowList_NsgMode_AppsCarryTheSameList()
    {
        Assert.Equal(["login.microsoftonline.com"], AllowedHostSettings(Site(fixture.WithVnet, "gateway")));
        Assert.Equal(["login.microsoftonline.com"], AllowedHostSettings(Site(fixture.WithoutVnet, "admin")));
    }

    public static TheoryData<string> DivergingChanges => new(DivergingMutations.Keys);

    [Theory]
    [MemberData(nameof(DivergingChanges))]
    public void AllowList_FirewallAndAppsDiverge_IsReported(string change)
    {
        var (mutate, offender) = DivergingMutations[change];
        var copy = fixture.Template.DeepClone().AsObject();
        mutate(copy);

        var divergences = Divergences(Evaluate(copy));

        Assert.Contains(divergences, d => d.Contains(offender, StringComparison.Ordinal));
    }

    /// <summary>Ways the firewall and the apps could stop sharing one list, each applied to the real template.</summary>
    private static readonly Dictionary<string, (Action<JsonObject> Mutate, string Offender)> DivergingMutations = new()
    {
        ["firewall allows a host the apps do not"] = (
            t => TemplateMutation.Set(MainModule(t, "network"), "properties.parameters.firewallTargetFqdns.value.apps", "[union(variables('egressAppHosts'), createArray('exfil.example.net'))]"),
            "exfil.example.net"),
        ["gateway carries no allow-list"] = (
            t => TemplateMutation.Set(MainModule(t, "gateway"), "properties.parameters.egressAllowedHosts.value", new JsonArray()),
            "gateway"),
        ["admin has a host of its own"] = (
            t => TemplateMutation.Set(MainModule(t, "admin"), "properties.parameters.egressAllowedHosts.value", "[union(variables('egressAppHosts'), createArray('other.example.org'))]"),
            "other.example.org"),
    };

    /// <summary>A module declaration of main.bicep by its symbolic name.</summary>
    private static JsonObject MainModule(JsonObject template, string symbol) => template["resources"]![symbol]!.AsObject();

    /// <summary>Where the apps' AllowedHosts settings and the firewall's 'apps' rule differ (empty: one list).</summary>
    private static List<string> Divergences(PolicyContext context)
    {
        var firewall = RuleCollections(context)
            .Where(c => c.Get("name").IsString("apps"))
            .SelectMany(c => c.Get("rules").Items())
            .SelectMany(r => r.Get("targetFqdns").Items().Select(f => f.Render()))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var divergences = new List<string>();
        foreach (var app in new[] { "gateway", "admin" })
        {
            var settings = AllowedHostSettings(Site(context, app)).ToHashSet(StringComparer.OrdinalIgnoreCase);
            divergences.AddRange(firewall.Except(settings).Select(h => $"the firewall allows '{h}', which the {app} app's allow-list does not name"));
            divergences.AddRange(settings.Except(firewall).Select(h => $"the {app} app allows '{h}', which the firewall does not"));
        }

        return divergences;
    }

    private static List<JsonNode> RuleCollections(PolicyContext context) =>
        [.. context.OfType("Microsoft.Network/firewallPolicies/ruleCollectionGroups").SelectMany(g => g.Body.Get("properties.ruleCollections").Items()).OfType<JsonNode>()];

    private static DeployedResource Site(PolicyContext context, string service) =>
        Assert.Single(context.OfType("Microsoft.Web/sites"), s => Sites.IsApp(s, service));

    private static Dictionary<string, string> Settings(DeployedResource site) =>
        site.Body.Get("properties.siteConfig.appSettings").Items().ToDictionary(s => s.Get("name").Render(), s => s.Get("value").Render(), StringComparer.Ordinal);

    /// <summary>ServerlessServe__Egress__AllowedHosts__0, __1, ... in order.</summary>
    private static List<string> AllowedHostSettings(DeployedResource site)
    {
        var settings = Settings(site);
        var hosts = new List<string>();
        for (var i = 0; settings.TryGetValue($"ServerlessServe__Egress__AllowedHosts__{i}", out var host); i++)
        {
            hosts.Add(host);
        }

        return hosts;
    }

    /// <summary>
    /// Every entry EgressAllowListFactory builds for an app (configured hosts, the endpoints its settings name, the fixed
    /// IMDS and Entra ID hosts, IDENTITY_ENDPOINT), and why it is reachable in firewall mode: a private endpoint or the
    /// VNet (never routed to the firewall), link-local or loopback (never leaves the host), or the firewall's 'apps' rule.
    /// </summary>
    [Fact]
    public void AppAllowedHosts_EachIsReachedThroughAPrivateEndpointTheHostOrTheFirewall()
    {
        var context = Firewall();

        var reach = new[] { "gateway", "admin", "inference" }.SelectMany(app => AllowedEntries(context, app).Select(e => $"{app}: {e.Entry} → {Reach(context, e.Value)}")).ToList();

        Assert.Equal(
            [
                "gateway: Egress:AllowedHosts:0 login.microsoftonline.com → firewall rule 'apps'",
                "gateway: Gateway:InferenceBaseUrl → in the VNet: the internal Container Apps environment, its private DNS zone linked to the VNet",
                "gateway: Identity:Authority (this cloud's login endpoint) → firewall rule 'apps' (login.microsoftonline.com in the public cloud)",
                "gateway: Storage:BlobServiceUri → private endpoint: blob of stdata*",
                "gateway: table of Storage:BlobServiceUri (derived) → private endpoint: table of stdata*",
                "gateway: Audit:Witness:BlobServiceUri → private endpoint: blob of stwit*",
                "gateway: 169.254.169.254 (IMDS) → link-local: the host answers, never routed",
                "gateway: login.microsoftonline.com (fixed) → firewall rule 'apps'",
                "gateway: IDENTITY_ENDPOINT (set by the platform) → loopback: the host's managed identity endpoint",
                "admin: Egress:AllowedHosts:0 login.microsoftonline.com → firewall rule 'apps'",
                "admin: Identity:Authority (this cloud's login endpoint) → firewall rule 'apps' (login.microsoftonline.com in the public cloud)",
                "admin: Storage:BlobServiceUri → private endpoint: blob of stdata*",
                "admin: table of Storage:BlobServiceUri (derived) → private endpoint: table of stdata*",
                "admin: Audit:Witness:BlobServiceUri → private endpoint: blob of stwit*",
                "admin: 169.254.169.254 (IMDS) → link-local: the host answers, never routed",
                "admin: login.microsoftonline.com (fixed) → firewall rule 'apps'",
                "admin: IDENTITY_ENDPOINT (set by the platform) → loopback: the host's managed identity endpoint",
                // The inference app (snet-apps, also routed to the firewall) configures no extra hosts; the 'apps' rule
                // covers its issuer too.
                "inference: ServiceAuth:Authority (this cloud's login endpoint) → firewall rule 'apps' (login.microsoftonline.com in the public cloud)",
                "inference: Storage:BlobServiceUri → private endpoint: blob of stdata*",
                "inference: table of Storage:BlobServiceUri (derived) → private endpoint: table of stdata*",
                "inference: 169.254.169.254 (IMDS) → link-local: the host answers, never routed",
                "inference: login.microsoftonline.com (fixed) → firewall rule 'apps'",
                "inference: IDENTITY_ENDPOINT (set by the platform) → loopback: the host's managed identity endpoint",
            ],
            reach);
    }

    /// <summary>The entries of one app's allow-list, in the order EgressAllowListFactory adds them: (label, value).</summary>
    private static IEnumerable<(string Entry, string Value)> AllowedEntries(PolicyContext context, string app)
    {
        var settings = app == "inference" ? InferenceSettings(context) : Settings(Site(context, app));
        for (var i = 0; settings.TryGetValue($"ServerlessServe__Egress__AllowedHosts__{i}", out var host); i++)
        {
            yield return ($"Egress:AllowedHosts:{i} {host}", $"host:{host}");
        }
        if (settings.TryGetValue("ServerlessServe__Gateway__InferenceBaseUrl", out var inference))
        {
            yield return ("Gateway:InferenceBaseUrl", inference);
        }

        foreach (var section in new[] { "Identity", "ServiceAuth" })
        {
            if (settings.TryGetValue($"ServerlessServe__{section}__Authority", out var authority))
            {
                yield return (authority.StartsWith("«environment().authentication.loginEndpoint»", StringComparison.Ordinal) ? $"{section}:Authority (this cloud's login endpoint)" : $"{section}:Authority", authority);
            }
        }

        var blob = settings["ServerlessServe__Storage__BlobServiceUri"];
        yield return ("Storage:BlobServiceUri", blob);
        yield return ("table of Storage:BlobServiceUri (derived)", blob.Replace(".primaryEndpoints.blob»", ".primaryEndpoints.table»", StringComparison.Ordinal));
        if (settings.TryGetValue("ServerlessServe__Audit__Witness__BlobServiceUri", out var witness))
        {
            yield return ("Audit:Witness:BlobServiceUri", witness);
        }

        yield return ("169.254.169.254 (IMDS)", "link-local:169.254.169.254");
        yield return ("login.microsoftonline.com (fixed)", "host:login.microsoftonline.com");
        yield return ("IDENTITY_ENDPOINT (set by the platform)", "loopback:IDENTITY_ENDPOINT");
    }

    /// <summary>The inference container's environment variables.</summary>
    private static Dictionary<string, string> InferenceSettings(PolicyContext context) =>
        Assert.Single(context.OfType("Microsoft.App/containerApps")).Body.Get("properties.template.containers").Items()
            .SelectMany(c => c.Get("env").Items())
            .ToDictionary(e => e.Get("name").Render(), e => e.Get("value").Render(), StringComparer.Ordinal);

    private static string Reach(PolicyContext context, string value)
    {
        var firewall = RuleCollections(context).Where(c => c.Get("name").IsString("apps"))
            .SelectMany(c => c.Get("rules").Items()).SelectMany(r => r.Get("targetFqdns").Items().Select(f => f.Render())).ToList();
        if (value.StartsWith("link-local:", StringComparison.Ordinal))
        {
            return "link-local: the host answers, never routed";
        }

        if (value.StartsWith("loopback:", StringComparison.Ordinal))
        {
            return "loopback: the host's managed identity endpoint";
        }

        if (value.StartsWith("host:", StringComparison.Ordinal))
        {
            return firewall.Contains(value["host:".Length..]) ? "firewall rule 'apps'" : "NOT REACHABLE: not on the firewall";
        }

        if (value.StartsWith("«environment().authentication.loginEndpoint»", StringComparison.Ordinal))
        {
            return firewall.Contains("login.microsoftonline.com") ? "firewall rule 'apps' (login.microsoftonline.com in the public cloud)" : "NOT REACHABLE: not on the firewall";
        }

        if (value.Contains("/providers/Microsoft.App/containerApps/", StringComparison.Ordinal))
        {
            var zone = context.OfType("Microsoft.Network/privateDnsZones").SingleOrDefault(z => z.Name.Contains("Microsoft.App/managedEnvironments/", StringComparison.Ordinal) && z.Name.EndsWith(".defaultDomain»", StringComparison.Ordinal));
            var linked = zone is not null && context.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Any(l => l.Name.StartsWith($"{zone.Name}/", StringComparison.Ordinal));
            var internalEnvironment = context.OfType("Microsoft.App/managedEnvironments").Any(e => e.Body.Get("properties.vnetConfiguration.internal").IsTrue());
            return linked && internalEnvironment
                ? "in the VNet: the internal Container Apps environment, its private DNS zone linked to the VNet"
                : "NOT REACHABLE: the inference app is not in the VNet's DNS";
        }

        if (StorageEndpoint().Match(value) is { Success: true } storage)
        {
            var account = storage.Groups["account"].Value.Replace("''", "'", StringComparison.Ordinal);
            var service = storage.Groups["service"].Value;
            var label = $"{service} of {account[..account.IndexOf('«', StringComparison.Ordinal)]}*";
            var endpoint = context.OfType("Microsoft.Network/privateEndpoints").Any(pe => pe.Body.Get("properties.privateLinkServiceConnections").Items().Any(c =>
                c.Get("properties.privateLinkServiceId").Render().EndsWith($"/storageAccounts/{account}", StringComparison.Ordinal)
                && c.Get("properties.groupIds").Items().Any(g => g.IsString(service))));
            if (endpoint)
            {
                return $"private endpoint: {label}";
            }

            var opened = firewall.Any(f => f.Contains($".{service}.", StringComparison.Ordinal) || f.Contains("core.windows.net", StringComparison.Ordinal));
            return opened
                ? $"NOT PRIVATE: {label} is opened on the firewall"
                : $"NOT REACHABLE: no {service} private endpoint on {label[(label.IndexOf(" of ", StringComparison.Ordinal) + 4)..]}, and not opened on the firewall either";
        }

        return $"NOT REACHABLE: '{value}' is neither private nor on the firewall";
    }

    private const string HubZones = "/subscriptions/00000000-0000-0000-0000-00000000hub0/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/";

    [Fact]
    public void HubDnsZones_Given_AreUsedAndNeitherCreatedNorLinked()
    {
        var parameters = CompiledTemplateFixture.Parameters(vnetEnabled: true);
        parameters["privateDnsZoneIds"] = new JsonObject
        {
            ["blob"] = $"{HubZones}privatelink.blob.core.windows.net",
            ["acr"] = $"{HubZones}privatelink.azurecr.io",
            // Empty: as if not given.
            ["vault"] = "",
        };
        var context = new PolicyContext(TemplateEvaluator.Evaluate(fixture.Template, parameters), VnetEnabled: true);

        var created = context.OfType("Microsoft.Network/privateDnsZones").Where(z => z.DeploymentPath == "main/network").Select(z => z.Name).ToList();
        Assert.Equal(
            ["privatelink.azurewebsites.net", "privatelink.queue.«environment().suffixes.storage»", "privatelink.table.«environment().suffixes.storage»", "privatelink«replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')»"],
            created.Order(StringComparer.Ordinal));
        Assert.Equal(4, context.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Count(l => l.DeploymentPath == "main/network"));

        var zoneOf = ZoneIdsByEndpoint(context);
        Assert.Equal($"{HubZones}privatelink.blob.core.windows.net", zoneOf["pe-stdata-blob"]);
        Assert.Equal($"{HubZones}privatelink.blob.core.windows.net", zoneOf["pe-strt-blob"]);
        Assert.Equal($"{HubZones}privatelink.blob.core.windows.net", zoneOf["pe-stwit"]);
        Assert.Equal($"{HubZones}privatelink.azurecr.io", zoneOf["pe-cr"]);
        Assert.EndsWith("/privateDnsZones/privatelink.queue.«environment().suffixes.storage»", zoneOf["pe-strt-queue"], StringComparison.Ordinal);
        Assert.EndsWith("/privateDnsZones/privatelink«replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')»", zoneOf["pe-kv"], StringComparison.Ordinal);
        Assert.All(SecurityPolicy.Rules, rule => Assert.Empty(rule.Evaluate(context)));
    }

    [Fact]
    public void HubDnsZones_NoneGiven_EveryZoneCreatedAndLinkedHere()
    {
        var created = fixture.WithVnet.OfType("Microsoft.Network/privateDnsZones").Where(z => z.DeploymentPath == "main/network").ToList();
        var links = fixture.WithVnet.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Where(l => l.DeploymentPath == "main/network").ToList();

        Assert.Equal(6, created.Count);
        Assert.All(created, zone => Assert.Single(links, l => l.Name.StartsWith($"{zone.Name}/", StringComparison.Ordinal)));
        Assert.Contains(created, z => z.Name == "privatelink«environment().suffixes.acrLoginServer»");
        var zoneOf = ZoneIdsByEndpoint(fixture.WithVnet);
        Assert.EndsWith("/privateDnsZones/privatelink«environment().suffixes.acrLoginServer»", zoneOf["pe-cr"], StringComparison.Ordinal);
        Assert.EndsWith("/privateDnsZones/privatelink.blob.«environment().suffixes.storage»", zoneOf["pe-stdata-blob"], StringComparison.Ordinal);
    }

    /// <summary>Each private endpoint's DNS zone ID, keyed by a short form of its name (pe-stdata-blob, pe-strt-queue, pe-cr, ...).</summary>
    private static Dictionary<string, string> ZoneIdsByEndpoint(PolicyContext context) =>
        context.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups").ToDictionary(
            g =>
            {
                var endpoint = g.Name[..g.Name.IndexOf('/', StringComparison.Ordinal)];
                var prefix = endpoint[..endpoint.IndexOf('«', StringComparison.Ordinal)].TrimEnd('-');
                return prefix is "pe-strt" or "pe-stdata" ? $"{prefix}-{endpoint[(endpoint.LastIndexOf('-') + 1)..]}" : prefix;
            },
            g => g.Body.Get("properties.privateDnsZoneConfigs")!.AsArray()[0].Get("properties.privateDnsZoneId").Render(),
            StringComparer.Ordinal);

    [GeneratedRegex(@"/storageAccounts/(?<account>.+?)', '\d{4}-\d{2}-\d{2}'\)\.primaryEndpoints\.(?<service>blob|queue|table)»$", RegexOptions.CultureInvariant)]
    private static partial Regex StorageEndpoint();
}
