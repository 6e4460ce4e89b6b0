using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

/// <summary>
/// Where a subnet's traffic may go: one representative destination. Either an address (assumed to lie in no service
/// tag: pick documentation addresses such as 203.0.113.10 for "somewhere on the Internet") or "an address of service
/// tag <c>Tag</c>" / "of <c>Tag.region</c>" (a regional query is also inside the global tag; a global query is not
/// inside any one region's tag).
/// </summary>
public sealed record NsgDestination(string Label, string? ServiceTag, IPAddress? Address, int Port, string Protocol)
{
    public static NsgDestination Tag(string tag, int port, string protocol = "Tcp") => new($"{tag}:{port}/{protocol}", tag, null, port, protocol);

    public static NsgDestination Ip(string address, int port, string protocol = "Tcp") =>
        new($"{address}:{port}/{protocol}", null, IPAddress.Parse(address), port, protocol);

    public override string ToString() => Label;
}

/// <summary>One security rule, read from the template with every field known (see <see cref="NsgEvaluator.Read"/>).</summary>
public sealed record NsgRule(
    string Name,
    long Priority,
    bool Allow,
    string Protocol,
    IReadOnlyList<string> SourcePrefixes,
    IReadOnlyList<string> DestinationPrefixes,
    IReadOnlyList<string> DestinationPorts);

/// <summary>What the first matching rule decided.</summary>
public sealed record NsgDecision(bool Allowed, NsgRule Rule)
{
    public override string ToString() => $"{(Allowed ? "allowed" : "denied")} by '{Rule.Name}' ({Rule.Priority.ToString(CultureInfo.InvariantCulture)})";
}

/// <summary>
/// Azure's outbound NSG evaluation: rules in priority order (lowest number first), the first rule whose protocol,
/// source, destination and port match decides; after the custom rules come Azure's defaults (AllowVnetOutBound 65000,
/// AllowInternetOutBound 65001, DenyAllOutBound 65500). Prefixes: <c>*</c>, <c>Internet</c>, <c>VirtualNetwork</c>,
/// service tags (global or <c>Tag.region</c>; <c>AzureCloud</c> contains every tag), CIDR ranges and addresses. Ports:
/// <c>*</c>, <c>n</c>, <c>a-b</c>, and arrays of them.
/// </summary>
public static class NsgEvaluator
{
    public static IReadOnlyList<NsgRule> DefaultOutboundRules { get; } =
    [
        new("AllowVnetOutBound", 65000, true, "*", ["VirtualNetwork"], ["VirtualNetwork"], ["*"]),
        new("AllowInternetOutBound", 65001, true, "*", ["*"], ["Internet"], ["*"]),
        new("DenyAllOutBound", 65500, false, "*", ["*"], ["*"], ["*"]),
    ];

    /// <summary>
    /// Reads an outbound rule's evaluated properties. Null with a reason when a field the evaluation needs is missing
    /// or not known before deployment (a rule that cannot be read is never assumed harmless).
    /// </summary>
    public static NsgRule? Read(string name, JsonNode? properties, out string? problem)
    {
        problem = null;
        var priority = properties.Get("priority").AsInteger();
        var access = properties.Get("access").AsString();
        var protocol = properties.Get("protocol").AsString();
        var sources = Prefixes(properties, "sourceAddressPrefix");
        var destinations = Prefixes(properties, "destinationAddressPrefix");
        var ports = Prefixes(properties, "destinationPortRange");
        if (priority is null)
        {
            problem = $"rule '{name}' has no literal priority";
        }
        else if (access is null || Symbolic.Is(properties.Get("access")) || protocol is null || Symbolic.Is(properties.Get("protocol")))
        {
            problem = $"rule '{name}' has no literal access or protocol";
        }
        else if (sources.Count == 0 || destinations.Count == 0 || ports.Count == 0)
        {
            problem = $"rule '{name}' has no literal source, destination or port";
        }
        else if (sources.Concat(destinations).Concat(ports).Any(p => p.Contains('«', StringComparison.Ordinal)))
        {
            problem = $"rule '{name}' has a prefix or port not known before deployment";
        }

        return problem is null
            ? new NsgRule(name, priority!.Value, string.Equals(access, "Allow", StringComparison.OrdinalIgnoreCase), protocol!, sources, destinations, ports)
            : null;
    }

    /// <summary>The decision for traffic from <paramref name="sourceSubnet"/> (a CIDR in <paramref name="vnetPrefixes"/>) to <paramref name="destination"/>.</summary>
    public static NsgDecision Evaluate(IEnumerable<NsgRule> customRules, string sourceSubnet, IReadOnlyList<string> vnetPrefixes, NsgDestination destination)
    {
        // OrderBy is stable: of two rules with one priority (which Azure refuses), the one declared first decides.
        foreach (var rule in customRules.OrderBy(r => r.Priority).Concat(DefaultOutboundRules))
        {
            if (MatchesProtocol(rule.Protocol, destination.Protocol)
                && rule.SourcePrefixes.Any(p => MatchesSource(p, sourceSubnet, vnetPrefixes))
                && rule.DestinationPrefixes.Any(p => MatchesDestination(p, destination, vnetPrefixes))
                && rule.DestinationPorts.Any(p => MatchesPort(p, destination.Port)))
            {
                return new NsgDecision(rule.Allow, rule);
            }
        }

        throw new InvalidOperationException("DenyAllOutBound matches everything");
    }

    public static bool MatchesProtocol(string ruleProtocol, string protocol) =>
        ruleProtocol == "*" || string.Equals(ruleProtocol, protocol, StringComparison.OrdinalIgnoreCase);

    /// <summary>Ports: <c>*</c>, <c>n</c> or <c>a-b</c> (inclusive).</summary>
    public static bool MatchesPort(string range, int port)
    {
        if (range.Trim() == "*")
        {
            return true;
        }

        var parts = range.Split('-', StringSplitOptions.TrimEntries);
        return parts.Length switch
        {
            1 => int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var single) && single == port,
            2 => int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var low)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var high)
                && low <= port && port <= high,
            _ => false,
        };
    }

    /// <summary>Whether a rule's source prefix covers the whole subnet (a rule for part of it does not decide for all of it).</summary>
    public static bool MatchesSource(string prefix, string sourceSubnet, IReadOnlyList<string> vnetPrefixes) => prefix switch
    {
        "*" => true,
        _ when Is(prefix, "VirtualNetwork") => vnetPrefixes.Any(v => Cidr.Contains(v, sourceSubnet)),
        _ when Cidr.TryParse(prefix, out _, out _) => Cidr.Contains(prefix, sourceSubnet),
        // A service tag or Internet: the subnet's private addresses are in neither.
        _ => false,
    };

    public static bool MatchesDestination(string prefix, NsgDestination destination, IReadOnlyList<string> vnetPrefixes)
    {
        if (prefix == "*")
        {
            return true;
        }

        if (Is(prefix, "VirtualNetwork"))
        {
            return destination.Address is { } inside && vnetPrefixes.Any(v => Cidr.Contains(v, inside));
        }

        if (Is(prefix, "Internet"))
        {
            // Service tags are public Azure addresses; an address is on the Internet when it is outside the VNet and
            // not private.
            return destination.ServiceTag is not null
                || (destination.Address is { } address && !vnetPrefixes.Any(v => Cidr.Contains(v, address)) && !Cidr.IsPrivate(address));
        }

        if (Cidr.TryParse(prefix, out _, out _))
        {
            return destination.Address is { } address && Cidr.Contains(prefix, address);
        }

        // A service tag rule: only tag queries can match (the addresses queried lie in no tag).
        if (destination.ServiceTag is null)
        {
            return false;
        }

        var (ruleTag, ruleRegion) = SplitTag(prefix);
        var (tag, region) = SplitTag(destination.ServiceTag);
        var sameTag = Is(ruleTag, tag) || Is(ruleTag, "AzureCloud");
        return sameTag && (ruleRegion is null || (region is not null && Is(ruleRegion, region)));
    }

    /// <summary>"AppService.westeurope" → (AppService, westeurope); "AzureFrontDoor.FirstParty" is a tag of its own, not a region.</summary>
    public static (string Tag, string? Region) SplitTag(string tag)
    {
        if (Is(tag, "AzureFrontDoor.FirstParty") || Is(tag, "AzureFrontDoor.Frontend") || Is(tag, "AzureFrontDoor.Backend"))
        {
            return (tag, null);
        }

        var dot = tag.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? (tag, null) : (tag[..dot], tag[(dot + 1)..]);
    }

    private static bool Is(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>The singular property and its plural array (…Prefix / …Prefixes, …Range / …Ranges), as rendered text.</summary>
    private static List<string> Prefixes(JsonNode? properties, string singular)
    {
        var values = new List<string>();
        if (properties.Get(singular) is { } one && one.Render() is { Length: > 0 } text)
        {
            values.Add(text);
        }

        var plural = singular.EndsWith("Prefix", StringComparison.Ordinal) ? singular + "es" : singular + "s";
        values.AddRange(properties.Get(plural).Items().Select(v => v.Render()).Where(v => v.Length > 0));
        return values;
    }
}

/// <summary>IPv4 CIDR arithmetic for NSG prefixes.</summary>
public static class Cidr
{
    public static bool TryParse(string text, out uint network, out int length)
    {
        network = 0;
        length = 32;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > 32))
        {
            return false;
        }

        network = ToUInt(address) & Mask(length);
        return true;
    }

    /// <summary>Whether <paramref name="outer"/> contains all of <paramref name="inner"/> (a CIDR or an address).</summary>
    public static bool Contains(string outer, string inner) =>
        TryParse(outer, out var outerNetwork, out var outerLength)
        && TryParse(inner, out var innerNetwork, out var innerLength)
        && innerLength >= outerLength
        && (innerNetwork & Mask(outerLength)) == outerNetwork;

    public static bool Contains(string outer, IPAddress address) =>
        TryParse(outer, out var network, out var length)
        && address.AddressFamily == AddressFamily.InterNetwork
        && (ToUInt(address) & Mask(length)) == network;

    /// <summary>RFC 1918, loopback, link-local and shared (CGNAT) space: never the Internet tag.</summary>
    public static bool IsPrivate(IPAddress address) =>
        new[] { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10" }.Any(p => Contains(p, address));

    /// <summary>The address of a host-order number.</summary>
    public static IPAddress Address(uint value) => new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    private static uint Mask(int length) => length == 0 ? 0u : uint.MaxValue << (32 - length);

    private static uint ToUInt(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
    }
}
