using System.Net;
using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests;

/// <summary>The NSG evaluator itself: Azure's first-match semantics on hand-made rule sets.</summary>
public sealed class NsgEvaluatorTests
{
    private const string Subnet = "10.40.1.0/24";
    private static readonly string[] Vnet = ["10.40.0.0/16"];

    private static NsgRule Rule(string name, long priority, bool allow, string destination, string port = "*", string protocol = "*", string source = "*") =>
        new(name, priority, allow, protocol, [source], [destination], [port]);

    private static NsgDecision Decide(NsgDestination destination, params NsgRule[] rules) =>
        NsgEvaluator.Evaluate(rules, Subnet, Vnet, destination);

    [Fact]
    public void Evaluate_NoCustomRules_AzureDefaultsAllowTheInternet()
    {
        var decision = Decide(NsgDestination.Ip("203.0.113.10", 443));

        Assert.True(decision.Allowed);
        Assert.Equal("AllowInternetOutBound", decision.Rule.Name);
    }

    [Fact]
    public void Evaluate_AllowAllBeforeDeny_FirstMatchWins()
    {
        var decision = Decide(
            NsgDestination.Ip("203.0.113.10", 443),
            Rule("DenyInternetOutbound", 4096, false, "Internet"),
            Rule("AllowAllOutbound", 100, true, "*"));

        Assert.True(decision.Allowed);
        Assert.Equal("AllowAllOutbound", decision.Rule.Name);
    }

    [Fact]
    public void Evaluate_DenyBeforeAllow_DenyWins()
    {
        var decision = Decide(
            NsgDestination.Tag("AzureActiveDirectory", 443),
            Rule("AllowEntraId", 200, true, "AzureActiveDirectory", "443", "Tcp"),
            Rule("DenyAll", 100, false, "*"));

        Assert.False(decision.Allowed);
        Assert.Equal("DenyAll", decision.Rule.Name);
    }

    [Fact]
    public void Evaluate_VnetDestinationPastAnInternetDeny_DefaultAllowVnet()
    {
        var decision = Decide(NsgDestination.Ip("10.40.4.4", 443), Rule("DenyInternet", 4096, false, "Internet"));

        Assert.True(decision.Allowed);
        Assert.Equal("AllowVnetOutBound", decision.Rule.Name);
    }

    [Fact]
    public void Evaluate_PrivateAddressOutsideVnet_NotInternet_DefaultDenyAll()
    {
        var decision = Decide(NsgDestination.Ip("192.168.1.1", 443), Rule("DenyInternet", 4096, false, "Internet"));

        Assert.False(decision.Allowed);
        Assert.Equal("DenyAllOutBound", decision.Rule.Name);
    }

    [Theory]
    [InlineData("AppService", "AppService", true)]
    [InlineData("AppService", "AppService.westeurope", true)]
    [InlineData("AppService.WestEurope", "AppService.westeurope", true)]
    [InlineData("AppService.westeurope", "AppService.eastus", false)]
    [InlineData("AppService.westeurope", "AppService", false)]
    [InlineData("Storage", "AppService", false)]
    [InlineData("AzureCloud", "Storage.westeurope", true)]
    [InlineData("AzureCloud.westeurope", "Storage.westeurope", true)]
    [InlineData("AzureCloud.westeurope", "Storage.northeurope", false)]
    [InlineData("AzureFrontDoor.FirstParty", "AzureFrontDoor.FirstParty", true)]
    [InlineData("AzureFrontDoor.Frontend", "AzureFrontDoor.FirstParty", false)]
    [InlineData("Internet", "AzureActiveDirectory", true)]
    [InlineData("*", "AzureMonitor", true)]
    [InlineData("VirtualNetwork", "AzureMonitor", false)]
    [InlineData("20.0.0.0/8", "AzureMonitor", false)]
    public void MatchesDestination_ServiceTags(string rulePrefix, string queriedTag, bool matches) =>
        Assert.Equal(matches, NsgEvaluator.MatchesDestination(rulePrefix, NsgDestination.Tag(queriedTag, 443), Vnet));

    [Theory]
    [InlineData("203.0.113.0/24", "203.0.113.10", true)]
    [InlineData("203.0.113.10", "203.0.113.10", true)]
    [InlineData("203.0.113.10/32", "203.0.113.11", false)]
    [InlineData("Internet", "203.0.113.10", true)]
    [InlineData("Internet", "10.40.4.4", false)]
    [InlineData("VirtualNetwork", "10.40.4.4", true)]
    [InlineData("VirtualNetwork", "203.0.113.10", false)]
    [InlineData("AzureActiveDirectory", "203.0.113.10", false)]
    [InlineData("0.0.0.0/0", "203.0.113.10", true)]
    public void MatchesDestination_Addresses(string rulePrefix, string address, bool matches) =>
        Assert.Equal(matches, NsgEvaluator.MatchesDestination(rulePrefix, NsgDestination.Ip(address, 443), Vnet));

    [Theory]
    [InlineData("*", 443, true)]
    [InlineData("443", 443, true)]
    [InlineData("443", 80, false)]
    [InlineData("1-1024", 443, true)]
    [InlineData("1024-65535", 443, false)]
    [InlineData("80-80", 80, true)]
    [InlineData("x", 80, false)]
    public void MatchesPort(string range, int port, bool matches) => Assert.Equal(matches, NsgEvaluator.MatchesPort(range, port));

    [Theory]
    [InlineData("*", true)]
    [InlineData("VirtualNetwork", true)]
    [InlineData("10.40.0.0/16", true)]
    [InlineData("10.40.1.0/24", true)]
    [InlineData("10.40.1.0/25", false)]
    [InlineData("10.41.0.0/16", false)]
    [InlineData("Internet", false)]
    [InlineData("AzureCloud", false)]
    public void MatchesSource_WholeSubnetOnly(string rulePrefix, bool matches) =>
        Assert.Equal(matches, NsgEvaluator.MatchesSource(rulePrefix, Subnet, Vnet));

    [Theory]
    [InlineData("*", "Udp", true)]
    [InlineData("Tcp", "Tcp", true)]
    [InlineData("tcp", "Tcp", true)]
    [InlineData("Tcp", "Udp", false)]
    public void MatchesProtocol(string rule, string protocol, bool matches) => Assert.Equal(matches, NsgEvaluator.MatchesProtocol(rule, protocol));

    [Fact]
    public void Evaluate_ProtocolAndPortNarrowTheRule()
    {
        var rules = new[]
        {
            Rule("AllowEntraIdHttps", 100, true, "AzureActiveDirectory", "443", "Tcp"),
            Rule("DenyInternet", 4096, false, "Internet"),
        };

        Assert.True(Decide(NsgDestination.Tag("AzureActiveDirectory", 443), rules).Allowed);
        Assert.False(Decide(NsgDestination.Tag("AzureActiveDirectory", 80), rules).Allowed);
        Assert.False(Decide(NsgDestination.Tag("AzureActiveDirectory", 443, "Udp"), rules).Allowed);
        Assert.False(Decide(NsgDestination.Tag("AzureMonitor", 443), rules).Allowed);
    }

    [Fact]
    public void Read_PluralPrefixesAndPortRanges()
    {
        var properties = JsonNode.Parse(
            """
            { "priority": 120, "direction": "Outbound", "access": "Allow", "protocol": "Tcp",
              "sourceAddressPrefixes": [ "10.40.1.0/24", "10.40.5.0/24" ], "sourcePortRange": "*",
              "destinationAddressPrefixes": [ "AppService.westeurope", "203.0.113.0/24" ],
              "destinationPortRanges": [ "443", "8000-8100" ] }
            """);

        var rule = NsgEvaluator.Read("AllowSome", properties, out var problem);

        Assert.Null(problem);
        Assert.NotNull(rule);
        Assert.Equal(["10.40.1.0/24", "10.40.5.0/24"], rule.SourcePrefixes);
        Assert.True(Decide(NsgDestination.Ip("203.0.113.9", 8080), rule, Rule("Deny", 4096, false, "*")).Allowed);
        Assert.True(Decide(NsgDestination.Tag("AppService.westeurope", 443), rule, Rule("Deny", 4096, false, "*")).Allowed);
        Assert.False(Decide(NsgDestination.Ip("203.0.113.9", 22), rule, Rule("Deny", 4096, false, "*")).Allowed);
    }

    [Theory]
    [InlineData("""{ "direction": "Outbound", "access": "Allow", "protocol": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "destinationPortRange": "*" }""", "no literal priority")]
    [InlineData("""{ "priority": "«parameters('p')»", "access": "Allow", "protocol": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "destinationPortRange": "*" }""", "no literal priority")]
    [InlineData("""{ "priority": 100, "access": "Allow", "protocol": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "«reference('x').tag»", "destinationPortRange": "*" }""", "not known before deployment")]
    [InlineData("""{ "priority": 100, "access": "Allow", "protocol": "*", "sourceAddressPrefix": "*", "destinationPortRange": "*" }""", "no literal source, destination or port")]
    public void Read_UnknownOrMissingField_IsAProblemNotARule(string json, string reason)
    {
        var rule = NsgEvaluator.Read("R", JsonNode.Parse(json), out var problem);

        Assert.Null(rule);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.40.0.0/16", "10.40.5.0/24", true)]
    [InlineData("10.40.5.0/24", "10.40.0.0/16", false)]
    [InlineData("10.40.0.0/16", "10.40.255.255", true)]
    [InlineData("0.0.0.0/0", "8.8.8.8", true)]
    [InlineData("10.40.0.0/16", "not-an-address", false)]
    public void Cidr_Contains(string outer, string inner, bool contains) => Assert.Equal(contains, Cidr.Contains(outer, inner));

    [Fact]
    public void Cidr_Address_RoundTrips()
    {
        Assert.True(Cidr.TryParse("10.40.0.0/16", out var network, out _));
        Assert.Equal(IPAddress.Parse("10.40.0.4"), Cidr.Address(network + 4));
    }
}
