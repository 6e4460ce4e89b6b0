using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

public static partial class SecurityPolicy
{
    public static PolicyRule AppSubnetNsgDeniesInternetLast { get; } = new(
        "app-subnet-nsg-denies-internet-last",
        "With the VNet, every app subnet (one delegated to a compute service) has an NSG whose last outbound rule denies the Internet.",
        ctx =>
        {
            const string id = "app-subnet-nsg-denies-internet-last";
            if (!ctx.VnetEnabled)
            {
                return [];
            }

            var subnets = AppSubnets(ctx).ToList();
            if (subnets.Count == 0)
            {
                return [new Violation(id, "(template)", "the VNet is enabled but no app subnet is declared")];
            }

            return subnets.SelectMany(subnet => CheckSubnetNsg(ctx, subnet.Owner, subnet.Name, subnet.Subnet, id));
        });

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

    private static IEnumerable<Violation> CheckSubnetNsg(PolicyContext ctx, DeployedResource owner, string subnetName, JsonNode subnet, string id)
    {
        var nsgId = subnet.Get("properties.networkSecurityGroup.id").AsString();
        if (string.IsNullOrEmpty(nsgId))
        {
            yield return new Violation(id, owner.ToString(), $"app subnet '{subnetName}' has no network security group");
            yield break;
        }

        var nsg = ctx.OfType("Microsoft.Network/networkSecurityGroups")
            .FirstOrDefault(n => nsgId.EndsWith($"/networkSecurityGroups/{n.Name}", StringComparison.OrdinalIgnoreCase));
        if (nsg is null)
        {
            yield return new Violation(id, owner.ToString(), $"app subnet '{subnetName}' points at an NSG this template does not declare ({nsgId})");
            yield break;
        }

        var rules = nsg.Body.Get("properties.securityRules").Items().OfType<JsonObject>()
            .Select(r => (Name: r.Get("name").Render(), Properties: r.Get("properties")))
            .Concat(ctx.OfType("Microsoft.Network/networkSecurityGroups/securityRules")
                .Where(r => r.Name.StartsWith(nsg.Name + "/", StringComparison.OrdinalIgnoreCase))
                .Select(r => (Name: r.ShortName, r.Properties)))
            .Where(r => r.Properties.Get("direction").IsString("Outbound"))
            .ToList();

        var unknown = rules.Where(r => r.Properties.Get("priority").AsInteger() is null).ToList();
        if (unknown.Count > 0)
        {
            yield return new Violation(id, nsg.ToString(), $"outbound rule '{unknown[0].Name}' has no literal priority");
            yield break;
        }

        if (rules.Count == 0)
        {
            yield return new Violation(id, nsg.ToString(), $"guards app subnet '{subnetName}' but has no outbound rules (the default allows the Internet)");
            yield break;
        }

        var last = rules.MaxBy(r => r.Properties.Get("priority").AsInteger())!;
        var destination = last.Properties.Get("destinationAddressPrefix");
        var deniesInternet = last.Properties.Get("access").IsString("Deny")
            && (destination.IsString("Internet") || destination.IsString("*")
                || last.Properties.Get("destinationAddressPrefixes").Items().Any(p => p.IsString("Internet")))
            && last.Properties.Get("protocol").IsString("*")
            && last.Properties.Get("destinationPortRange").IsString("*");
        if (!deniesInternet)
        {
            yield return new Violation(id, nsg.ToString(), $"last outbound rule '{last.Name}' does not deny all traffic to the Internet");
        }
    }
}
