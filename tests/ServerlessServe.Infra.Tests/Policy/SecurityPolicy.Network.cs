using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

public static partial class SecurityPolicy
{
    private static IEnumerable<(DeployedResource Owner, string Name, JsonNode Subnet)> AppSubnets(PolicyContext ctx)
    {
        foreach (var vnet in ctx.OfType("Microsoft.Network/virtualNetworks"))
        {
            foreach (var subnet in vnet.Body.Get("properties.subnets").Items().OfType<JsonObject>())
            {
                if (subnet.Get("properties.delegations").Items().Any())
                {
                    yield return (vnet, subnet.Get("name").Render(), subnet);
                }
            }
        }

        foreach (var subnet in ctx.OfType("Microsoft.Network/virtualNetworks/subnets"))
        {
            if (subnet.Body.Get("properties.delegations").Items().Any())
            {
                yield return (subnet, subnet.ShortName, subnet.Body);
            }
        }
    }
}

public static partial class SecurityPolicy
{
    /// <summary>The role a subnet plays, which decides what it may reach.</summary>
    public enum SubnetRole
    {
        /// <summary>Integration subnet of a Flex Consumption Function App (gateway, admin).</summary>
        Functions,

        /// <summary>Infrastructure subnet of a Container Apps environment (inference).</summary>
        ContainerApps,

        /// <summary>Delegated, but no app of this template uses it: nothing beyond Entra ID, monitoring and the VNet.</summary>
        Unused,
    }

    /// <summary>
    /// Destinations every app subnet is tested against, and whether each role may reach them (first match, Azure's
    /// default rules last). The location is the NSG's region.
    /// </summary>
    public static IReadOnlyList<(Func<string, string, NsgDestination> Destination, SubnetRole[] AllowedFrom)> EgressExpectations { get; } =
    [
        // Anything on the Internet that is not a listed Azure service: never.
        ((_, _) => NsgDestination.Ip("203.0.113.10", 443), []),
        ((_, _) => NsgDestination.Ip("203.0.113.10", 80), []),
        ((_, _) => NsgDestination.Ip("198.51.100.7", 53, "Udp"), []),
        ((_, _) => NsgDestination.Ip("198.51.100.7", 22), []),
        // Entra ID (managed identity, caller tokens' key sets) and Azure Monitor (telemetry): HTTPS only.
        ((_, _) => NsgDestination.Tag("AzureActiveDirectory", 443), [SubnetRole.Functions, SubnetRole.ContainerApps, SubnetRole.Unused]),
        ((_, _) => NsgDestination.Tag("AzureActiveDirectory", 80), []),
        ((_, _) => NsgDestination.Tag("AzureMonitor", 443), [SubnetRole.Functions, SubnetRole.ContainerApps, SubnetRole.Unused]),
        // A Flex app's own endpoint (deploy, trigger sync): this region's App Service, from the Flex subnets only.
        ((location, _) => NsgDestination.Tag($"AppService.{location}", 443), [SubnetRole.Functions]),
        ((location, _) => NsgDestination.Tag(OtherRegion("AppService", location), 443), []),
        ((_, _) => NsgDestination.Tag("AppService", 443), []),
        // Storage, Key Vault and our registry are private endpoints: no public path to any account or registry.
        ((location, _) => NsgDestination.Tag($"Storage.{location}", 443), []),
        ((_, _) => NsgDestination.Tag("Storage", 443), []),
        ((_, _) => NsgDestination.Tag("AzureKeyVault", 443), []),
        ((_, _) => NsgDestination.Tag("AzureContainerRegistry", 443), []),
        ((location, _) => NsgDestination.Tag($"AzureContainerRegistry.{location}", 443), []),
        // The Container Apps platform's own images: MCR and the Front Door that serves it.
        ((_, _) => NsgDestination.Tag("MicrosoftContainerRegistry", 443), [SubnetRole.ContainerApps]),
        ((_, _) => NsgDestination.Tag("AzureFrontDoor.FirstParty", 443), [SubnetRole.ContainerApps]),
        // All of Azure is no allow-list.
        ((location, _) => NsgDestination.Tag($"AzureCloud.{location}", 443), []),
        ((_, _) => NsgDestination.Tag("AzureCloud", 443), []),
        // Inside the VNet (private endpoints, the environment's internal load balancer): always.
        ((_, vnetAddress) => NsgDestination.Ip(vnetAddress, 443), [SubnetRole.Functions, SubnetRole.ContainerApps, SubnetRole.Unused]),
    ];

    public static PolicyRule AppSubnetNsgEgressFirstMatch { get; } = new(
        "app-subnet-nsg-egress-first-match",
        "With the VNet, each app subnet's NSG, evaluated as Azure does (priority order, first match, then the default rules), allows exactly the destinations its role needs: Entra ID and Azure Monitor on 443; this region's App Service from the Flex subnets; MCR and its Front Door from the Container Apps subnet; nothing else outside the VNet.",
        ctx =>
        {
            const string id = "app-subnet-nsg-egress-first-match";
            if (!ctx.VnetEnabled)
            {
                return [];
            }

            var subnets = AppSubnets(ctx).ToList();
            return subnets.Count == 0
                ? [new Violation(id, "(template)", "the VNet is enabled but no app subnet is declared")]
                : subnets.SelectMany(subnet => CheckEgress(ctx, subnet.Owner, subnet.Name, subnet.Subnet, id));
        });

    public static PolicyRule RegistryPrivateWithVnet { get; } = new(
        "registry-private-with-vnet",
        "With the VNet, every container registry is Premium and has a private endpoint (group 'registry') registered in a privatelink.azurecr.io zone, so images are pulled inside the VNet.",
        ctx =>
        {
            const string id = "registry-private-with-vnet";
            if (!ctx.VnetEnabled)
            {
                return [];
            }

            return ctx.OfType("Microsoft.ContainerRegistry/registries").SelectMany(registry => CheckRegistry(ctx, registry, id));
        });

    private static IEnumerable<Violation> CheckRegistry(PolicyContext ctx, DeployedResource registry, string id)
    {
        foreach (var v in RequireString(id, registry, "sku.name", "Premium"))
        {
            yield return v;
        }

        var endpoints = ctx.OfType("Microsoft.Network/privateEndpoints")
            .Where(pe => pe.Body.Get("properties.privateLinkServiceConnections").Items().Any(c =>
                c.Get("properties.privateLinkServiceId").Render().EndsWith($"/registries/{registry.Name}", StringComparison.OrdinalIgnoreCase)
                && c.Get("properties.groupIds").Items().Any(g => g.IsString("registry"))))
            .ToList();
        if (endpoints.Count == 0)
        {
            yield return new Violation(id, registry.ToString(), "has no private endpoint for group 'registry'");
            yield break;
        }

        var zoneIds = endpoints
            .SelectMany(pe => ctx.OfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups").Where(g => g.Name.StartsWith($"{pe.Name}/", StringComparison.Ordinal)))
            .SelectMany(g => g.Body.Get("properties.privateDnsZoneConfigs").Items())
            .Select(c => c.Get("properties.privateDnsZoneId").Render())
            .ToList();
        if (!zoneIds.Any(IsRegistryZone))
        {
            yield return new Violation(id, registry.ToString(), $"its private endpoint is registered in no privatelink.azurecr.io zone ({string.Join(", ", zoneIds)})");
        }
    }

    /// <summary>The registry zone: privatelink.azurecr.io, or in the cloud's terms privatelink + its ACR login suffix.</summary>
    private static bool IsRegistryZone(string zoneId)
    {
        var name = zoneId[(zoneId.LastIndexOf('/') + 1)..];
        return name.Equals("privatelink.azurecr.io", StringComparison.OrdinalIgnoreCase)
            || name.Equals("privatelink«environment().suffixes.acrLoginServer»", StringComparison.Ordinal);
    }

    private static string OtherRegion(string tag, string location) =>
        $"{tag}.{(string.Equals(location, "brazilsouth", StringComparison.OrdinalIgnoreCase) ? "japaneast" : "brazilsouth")}";

    private static IEnumerable<Violation> CheckEgress(PolicyContext ctx, DeployedResource owner, string subnetName, JsonNode subnet, string id)
    {
        var nsgId = subnet.Get("properties.networkSecurityGroup.id").AsString();
        var nsg = string.IsNullOrEmpty(nsgId)
            ? null
            : ctx.OfType("Microsoft.Network/networkSecurityGroups").FirstOrDefault(n => nsgId.EndsWith($"/networkSecurityGroups/{n.Name}", StringComparison.OrdinalIgnoreCase));
        if (nsg is null)
        {
            yield return new Violation(id, owner.ToString(), $"app subnet '{subnetName}' has no NSG this template declares ({nsgId ?? "none"})");
            yield break;
        }

        var subnetPrefix = subnet.Get("properties.addressPrefix").AsString();
        var vnetPrefixes = ctx.OfType("Microsoft.Network/virtualNetworks")
            .SelectMany(v => v.Body.Get("properties.addressSpace.addressPrefixes").Items().Select(p => p.Render()))
            .ToList();
        var location = nsg.Body.Get("location").AsString();
        if (subnetPrefix is null || vnetPrefixes.Count == 0 || location is null || Symbolic.Is(nsg.Body.Get("location"))
            || !Cidr.TryParse(subnetPrefix, out _, out _) || !vnetPrefixes.All(p => Cidr.TryParse(p, out _, out _)))
        {
            yield return new Violation(id, nsg.ToString(), $"the subnet '{subnetName}' prefix, the VNet's address space or the NSG's region is not known before deployment");
            yield break;
        }

        var rules = new List<NsgRule>();
        var declared = nsg.Body.Get("properties.securityRules").Items().OfType<JsonObject>()
            .Select(r => (Name: r.Get("name").Render(), Properties: r.Get("properties")))
            .Concat(ctx.OfType("Microsoft.Network/networkSecurityGroups/securityRules")
                .Where(r => r.Name.StartsWith(nsg.Name + "/", StringComparison.OrdinalIgnoreCase))
                .Select(r => (Name: r.ShortName, r.Properties)))
            .Where(r => r.Properties.Get("direction").IsString("Outbound"));
        foreach (var (name, properties) in declared)
        {
            if (NsgEvaluator.Read(name, properties, out var problem) is { } rule)
            {
                rules.Add(rule);
            }
            else
            {
                yield return new Violation(id, nsg.ToString(), problem!);
            }
        }

        foreach (var duplicate in rules.GroupBy(r => r.Priority).Where(g => g.Count() > 1))
        {
            yield return new Violation(id, nsg.ToString(), $"rules {string.Join(", ", duplicate.Select(r => $"'{r.Name}'"))} share priority {duplicate.Key} (Azure refuses that)");
        }

        var role = RoleOf(ctx, subnetName);
        Cidr.TryParse(vnetPrefixes[0], out var vnetNetwork, out _);
        var vnetAddress = Cidr.Address(vnetNetwork + 4).ToString();
        foreach (var (destinationOf, allowedFrom) in EgressExpectations)
        {
            var destination = destinationOf(location, vnetAddress);
            var decision = NsgEvaluator.Evaluate(rules, subnetPrefix, vnetPrefixes, destination);
            var expected = allowedFrom.Contains(role);
            if (decision.Allowed != expected)
            {
                yield return new Violation(
                    id,
                    nsg.ToString(),
                    $"from '{subnetName}' ({role}) {destination} is {decision}; expected {(expected ? "allowed" : "denied")}");
            }
        }
    }

    /// <summary>Functions when a Function App integrates with the subnet, ContainerApps when an environment runs in it.</summary>
    private static SubnetRole RoleOf(PolicyContext ctx, string subnetName)
    {
        bool Names(JsonNode? subnetId) => subnetId.Render().EndsWith($"/subnets/{subnetName}", StringComparison.OrdinalIgnoreCase);
        if (ctx.OfType("Microsoft.Web/sites").Any(s => Names(s.Body.Get("properties.virtualNetworkSubnetId"))))
        {
            return SubnetRole.Functions;
        }

        return ctx.OfType("Microsoft.App/managedEnvironments").Any(e => Names(e.Body.Get("properties.vnetConfiguration.infrastructureSubnetId")))
            ? SubnetRole.ContainerApps
            : SubnetRole.Unused;
    }
}

public static partial class SecurityPolicy
{
    public static PolicyRule EgressFirewallRoutesAndNamedHosts { get; } = new(
        "egress-firewall-routes-and-named-hosts",
        "Where an Azure Firewall is declared (egressMode firewall), every app subnet's default route (0.0.0.0/0) goes to its private address (the first usable address of its subnet), declared in the route table itself (a route declared as a child resource is deleted whenever the table is provisioned again), and its policy only allows HTTPS to named hosts from the VNet's subnets: application rules, no wildcard-only or bare-TLD host, no network rules.",
        ctx =>
        {
            const string id = "egress-firewall-routes-and-named-hosts";
            var firewalls = ctx.OfType("Microsoft.Network/azureFirewalls").ToList();
            return firewalls.Count == 0 ? [] : firewalls.SelectMany(firewall => CheckFirewall(ctx, firewall, id));
        });

    private static IEnumerable<Violation> CheckFirewall(PolicyContext ctx, DeployedResource firewall, string id)
    {
        // A route table is sent whole: routes declared apart from it are deleted each time it is provisioned again, until
        // their own declaration puts them back (0.0.0.0/0 then goes around the firewall).
        foreach (var child in ctx.OfType("Microsoft.Network/routeTables/routes"))
        {
            yield return new Violation(id, child.ToString(), "is declared as a child resource: declare it in its route table's routes, or every provision of the table deletes it for a while");
        }

        // Azure gives the firewall the first address a resource can get in its subnet (it keeps .0 to .3 of every subnet).
        var address = FirewallAddress(ctx, firewall);
        bool ToFirewall(JsonNode? route) =>
            route.Get("properties.addressPrefix").IsString("0.0.0.0/0")
            && route.Get("properties.nextHopType").IsString("VirtualAppliance")
            && address is not null
            && route.Get("properties.nextHopIpAddress").IsString(address);
        var routedTables = ctx.OfType("Microsoft.Network/routeTables")
            .Where(t => t.Body.Get("properties.routes").Items().Any(ToFirewall))
            .Select(t => t.Name)
            .ToList();
        foreach (var (owner, name, subnet) in AppSubnets(ctx))
        {
            var table = subnet.Get("properties.routeTable.id").Render();
            if (!routedTables.Any(t => table.EndsWith($"/routeTables/{t}", StringComparison.Ordinal)))
            {
                yield return new Violation(id, owner.ToString(), $"app subnet '{name}' has no route table whose own routes send 0.0.0.0/0 to firewall '{firewall.Name}' at {address ?? "(its subnet's prefix is not known)"}");
            }
        }

        var policyId = firewall.Body.Get("properties.firewallPolicy.id").Render();
        var policy = ctx.OfType("Microsoft.Network/firewallPolicies").FirstOrDefault(p => policyId.EndsWith($"/firewallPolicies/{p.Name}", StringComparison.Ordinal));
        if (policy is null)
        {
            yield return new Violation(id, firewall.ToString(), $"uses no firewall policy this template declares ({policyId})");
            yield break;
        }

        var collections = ctx.OfType("Microsoft.Network/firewallPolicies/ruleCollectionGroups")
            .Where(g => g.Name.StartsWith($"{policy.Name}/", StringComparison.Ordinal))
            .SelectMany(g => g.Body.Get("properties.ruleCollections").Items().Select(c => (Group: g, Collection: c)))
            .ToList();
        foreach (var (group, collection) in collections)
        {
            var where = $"{group} collection '{collection.Get("name").Render()}'";
            if (!collection.Get("action.type").IsString("Allow") || !collection.Get("ruleCollectionType").IsString("FirewallPolicyFilterRuleCollection"))
            {
                continue;
            }

            foreach (var rule in collection.Get("rules").Items())
            {
                var ruleName = rule.Get("name").Render();
                if (!rule.Get("ruleType").IsString("ApplicationRule"))
                {
                    yield return new Violation(id, where, $"rule '{ruleName}' is a {rule.Get("ruleType").Render()}: only application rules (named hosts) may allow egress");
                    continue;
                }

                var protocols = rule.Get("protocols").Items().ToList();
                if (protocols.Count == 0 || protocols.Any(p => !p.Get("protocolType").IsString("Https") || p.Get("port").AsInteger() != 443))
                {
                    yield return new Violation(id, where, $"rule '{ruleName}' allows more than HTTPS on 443");
                }

                var sources = rule.Get("sourceAddresses").Items().Select(a => a.Render()).ToList();
                if (sources.Count == 0 || sources.Any(a => a == "*" || !Cidr.IsPrivate(Cidr.TryParse(a, out var network, out _) ? Cidr.Address(network) : System.Net.IPAddress.Any)))
                {
                    yield return new Violation(id, where, $"rule '{ruleName}' has sources beyond the VNet's private ranges ({string.Join(", ", sources)})");
                }

                if (rule.Get("fqdnTags").Items().Any() || rule.Get("webCategories").Items().Any())
                {
                    yield return new Violation(id, where, $"rule '{ruleName}' allows FQDN tags or web categories, not named hosts");
                }

                var targets = rule.Get("targetFqdns").Items().Select(f => f.Render()).ToList();
                if (targets.Count == 0)
                {
                    yield return new Violation(id, where, $"rule '{ruleName}' names no host");
                }

                foreach (var target in targets.Where(t => !NamedHost(t)))
                {
                    yield return new Violation(id, where, $"rule '{ruleName}' allows '{target}', which names no host (a wildcard must leave at least two labels, as in *.example.com)");
                }
            }
        }
    }

    /// <summary>
    /// The firewall's private address: the fifth address (.4) of the subnet its IP configuration names, as declared in a
    /// virtual network of the template; null when that subnet or its prefix is not known.
    /// </summary>
    private static string? FirewallAddress(PolicyContext ctx, DeployedResource firewall)
    {
        var subnetId = firewall.Body.Get("properties.ipConfigurations").Items().FirstOrDefault().Get("properties.subnet.id").Render();
        var prefix = ctx.OfType("Microsoft.Network/virtualNetworks")
            .SelectMany(vnet => vnet.Body.Get("properties.subnets").Items().Select(subnet => (Vnet: vnet.Name, Subnet: subnet)))
            .Where(s => subnetId.EndsWith($"/virtualNetworks/{s.Vnet}/subnets/{s.Subnet.Get("name").Render()}", StringComparison.Ordinal))
            .Select(s => s.Subnet.Get("properties.addressPrefix").AsString())
            .FirstOrDefault();
        return prefix is not null && Cidr.TryParse(prefix, out var network, out var length) && length <= 29
            ? Cidr.Address(network + 4).ToString()
            : null;
    }

    /// <summary>A host name, or *.domain with a domain of at least two labels; no other wildcard, no unknown value.</summary>
    private static bool NamedHost(string fqdn)
    {
        var rest = fqdn.StartsWith("*.", StringComparison.Ordinal) ? fqdn[2..] : fqdn;
        return rest.Length > 0 && !rest.Contains('*', StringComparison.Ordinal) && rest.Split('.').Length >= 2 && !rest.Split('.').Any(l => l.Length == 0)
            && !(rest.StartsWith('«') && rest.EndsWith('»') && rest.IndexOf('»', StringComparison.Ordinal) == rest.Length - 1);
    }
}
