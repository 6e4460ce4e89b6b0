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
                TemplateMutation.Set(TemplateMutation.Resource(t, "network/firewall", "Microsoft.Network/routeTables/routes"), "properties.nextHopType", "Internet");
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
