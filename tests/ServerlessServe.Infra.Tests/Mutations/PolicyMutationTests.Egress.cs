using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Mutations;

public sealed partial class PolicyMutationTests
{
    private static IEnumerable<TemplateMutation> EgressCases =>
    [
        // First match: an allow-all at priority 100 decides before the deny at 4096 ever runs. Inserted first in the rules
        // both app NSGs start with (the module's commonOutboundRules), so it wins the tie with AllowEntraIdOutbound too.
        new(
            "nsg: Allow * -> * at priority 100 before the deny at 4096",
            "app-subnet-nsg-egress-first-match",
            "AllowAllOutbound",
            t => TemplateMutation.Insert(TemplateMutation.Module(t, "network"), "variables.commonOutboundRules", OutboundRule("AllowAllOutbound", 100, "*", "*", "*"), 0)),
        new(
            "nsg: HTTPS to the whole Internet just before the deny",
            "app-subnet-nsg-egress-first-match",
            "AllowHttpsOutbound",
            t => TemplateMutation.Insert(TemplateMutation.Module(t, "network"), "variables.commonOutboundRules", OutboundRule("AllowHttpsOutbound", 4000, "Tcp", "Internet", "443"))),
        new(
            "nsg: the regional Storage tag back on every app subnet",
            "app-subnet-nsg-egress-first-match",
            "Storage.westeurope",
            t => TemplateMutation.Insert(TemplateMutation.Module(t, "network"), "variables.commonOutboundRules", OutboundRule("AllowRegionalStorageOutbound", 120, "Tcp", "Storage.westeurope", "443"))),
        new(
            "nsg: the Flex subnets lose their own App Service endpoint (deploys time out)",
            "app-subnet-nsg-egress-first-match",
            "AppService.westeurope",
            t => TemplateMutation.Remove(TemplateMutation.Module(t, "network"), "variables.functionsOutboundRules[0]")),
        new(
            "nsg: a port range 1-65535 to AzureCloud on the apps subnet",
            "app-subnet-nsg-egress-first-match",
            "AzureCloud",
            t => TemplateMutation.Insert(TemplateMutation.Module(t, "network"), "variables.appsOutboundRules", OutboundRule("AllowAzureCloudOutbound", 150, "Tcp", "AzureCloud", "1-65535"))),
        new(
            "registry: Standard SKU with the VNet (no private endpoint possible)",
            "registry-private-with-vnet",
            "Premium",
            t => TemplateMutation.Set(TemplateMutation.Resource(t, "registry", "Microsoft.ContainerRegistry/registries"), "sku.name", "Standard")),
        new(
            "registry: no private endpoint",
            "registry-private-with-vnet",
            "no private endpoint",
            t => TemplateMutation.Set(TemplateMutation.Resource(t, "registry", "Microsoft.Resources/deployments", "registry"), "condition", false)),
        // Firewall mode is a parameter: each case turns it on (the default is nsg) and breaks one thing.
        new(
            "firewall: a wildcard-only host in the Container Apps collection",
            "egress-firewall-routes-and-named-hosts",
            "allows '*'",
            t =>
            {
                FirewallMode(t);
                TemplateMutation.Set(t["resources"]!["network"]!.AsObject(), "properties.parameters.firewallTargetFqdns.value.containerApps", "[createArray('*')]");
            }),
        new(
            "firewall: the default route goes to the Internet, not the firewall",
            "egress-firewall-routes-and-named-hosts",
            "snet-apps",
            t =>
            {
                FirewallMode(t);
                TemplateMutation.Set(EgressRoutes(t), "properties.routes[0].properties.nextHopType", "Internet");
            }),
        new(
            "firewall: the default route's next hop is an address the firewall does not get",
            "egress-firewall-routes-and-named-hosts",
            "at 10.40.6.4",
            t =>
            {
                FirewallMode(t);
                TemplateMutation.Set(EgressRoutes(t), "properties.routes[0].properties.nextHopIpAddress", "10.40.6.5");
            }),
        // The form before 2026-12-07: a table with no routes, and 0.0.0.0/0 added beside it as a child resource, which every
        // provision of the table deleted until the child's own deployment put it back.
        new(
            "firewall: the default route declared as a child resource of the route table",
            "egress-firewall-routes-and-named-hosts",
            "is declared as a child resource",
            t =>
            {
                FirewallMode(t);
                var route = TemplateMutation.Navigate(EgressRoutes(t), "properties.routes[0]").DeepClone().AsObject();
                TemplateMutation.Remove(EgressRoutes(t), "properties.routes[0]");
                TemplateMutation.Insert(TemplateMutation.Module(t, "network"), "resources", new JsonObject
                {
                    ["type"] = "Microsoft.Network/routeTables/routes",
                    ["apiVersion"] = "2024-07-01",
                    ["name"] = "[format('rt-{0}-egress/{1}', parameters('vnetName'), 'default-via-firewall')]",
                    ["properties"] = route["properties"]!.DeepClone(),
                });
            }),
        new(
            "firewall: HTTP on 80 beside HTTPS",
            "egress-firewall-routes-and-named-hosts",
            "more than HTTPS",
            t =>
            {
                FirewallMode(t);
                TemplateMutation.Insert(TemplateMutation.Module(t, "network/firewall"), "variables.copy[0].input.rules[0].protocols", new JsonObject { ["protocolType"] = "Http", ["port"] = 80 });
            }),
    ];

    /// <summary>The app subnets' route table, as the network module declares it.</summary>
    private static JsonObject EgressRoutes(JsonObject template) => TemplateMutation.Resource(template, "network", "Microsoft.Network/routeTables");

    /// <summary>Turns egressMode's default to firewall in the real template (the parameter the mode comes from).</summary>
    private static void FirewallMode(JsonObject template) =>
        TemplateMutation.Set(template, "parameters.egressMode.defaultValue", "firewall");

    private static JsonObject OutboundRule(string name, int priority, string protocol, string destination, string port) => new()
    {
        ["name"] = name,
        ["properties"] = new JsonObject
        {
            ["priority"] = priority,
            ["direction"] = "Outbound",
            ["access"] = "Allow",
            ["protocol"] = protocol,
            ["sourceAddressPrefix"] = "*",
            ["sourcePortRange"] = "*",
            ["destinationAddressPrefix"] = destination,
            ["destinationPortRange"] = port,
        },
    };
}
