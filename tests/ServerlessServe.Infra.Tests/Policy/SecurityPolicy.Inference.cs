using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

/// <summary>How the gateway reaches the inference app, and what the inference app runs on.</summary>
public static partial class SecurityPolicy
{
    private const string ManagedEnvironments = "Microsoft.App/managedEnvironments";

    /// <summary>What one replica gets on each serverless GPU profile: the node's cores and memory.</summary>
    public static IReadOnlyDictionary<string, (double Cpu, string Memory)> GpuProfileSizes { get; } = new Dictionary<string, (double, string)>(StringComparer.OrdinalIgnoreCase)
    {
        ["Consumption-GPU-NC8as-T4"] = (8, "56Gi"),
        ["Consumption-GPU-NC24-A100"] = (24, "220Gi"),
    };

    public static PolicyRule InferenceIngressVnetOnly { get; } = new(
        "inference-ingress-vnet-only",
        "With the VNet, every Container Apps environment is internal (no public IP), and a container app's external ingress (in an internal environment: reachable from the VNet) admits only address ranges inside a VNet this template declares, by allow rules.",
        ctx => !ctx.VnetEnabled ? [] :
            ctx.OfType(ManagedEnvironments)
                .SelectMany(env => RequireTrue("inference-ingress-vnet-only", env, "properties.vnetConfiguration.internal"))
                .Concat(ctx.OfType(ContainerApps)
                    .Where(app => app.Body.Get("properties.configuration.ingress.external").IsTrue())
                    .SelectMany(app => CheckIngressRestrictions(ctx, app))));

    public static PolicyRule InferenceReachableFromGateway { get; } = new(
        "inference-reachable-from-gateway",
        "With the VNet, the inference base URL a Function App is given is the FQDN of a container app this template declares; that app's ingress is external (a non-external ingress admits only apps of its own environment) and admits the Function App's integration subnet; and the environment's domain resolves, through a private DNS zone linked to that subnet's VNet, to the environment's internal IP.",
        ctx => !ctx.VnetEnabled ? [] : FunctionApps(ctx).SelectMany(site => CheckReachability(ctx, site)));

    public static PolicyRule InferenceResourcesFitProfile { get; } = new(
        "inference-resources-fit-profile",
        "A container app runs on a workload profile its environment declares, and asks for what that profile gives one replica: on a serverless GPU profile, the cores and memory of that profile type (an unknown type is refused); on Consumption, at most 4 cores and 8 GiB.",
        ctx => ctx.OfType(ContainerApps).SelectMany(app => CheckProfileFit(ctx, app)));

    public static PolicyRule PublishJobInsideVnet { get; } = new(
        "publish-job-inside-vnet",
        "With the VNet, every Container Apps job (the publish path) runs in an internal environment this template declares, on a subnet of its VNet, so it reaches the data account's private endpoint; it is started by hand only, and acts with a user-assigned identity of its own.",
        ctx => !ctx.VnetEnabled ? [] : ctx.OfType("Microsoft.App/jobs").SelectMany(job => CheckJob(ctx, job)));

    private static IEnumerable<Violation> CheckJob(PolicyContext ctx, DeployedResource job)
    {
        const string id = "publish-job-inside-vnet";
        var envId = job.Body.Get("properties.environmentId").AsString() ?? string.Empty;
        var env = ctx.OfType(ManagedEnvironments).FirstOrDefault(e => envId.EndsWith($"/{ManagedEnvironments}/{e.Name}", StringComparison.OrdinalIgnoreCase));
        var subnet = env?.Body.Get("properties.vnetConfiguration.infrastructureSubnetId").AsString() ?? string.Empty;
        if (env is null || !env.Body.Get("properties.vnetConfiguration.internal").IsTrue()
            || !ctx.OfType("Microsoft.Network/virtualNetworks").Any(v => subnet.Contains($"/virtualNetworks/{v.Name}/subnets/", StringComparison.OrdinalIgnoreCase)))
        {
            yield return new Violation(id, job.ToString(), $"runs in {(env is null ? $"an environment this template does not declare ({envId})" : env.Name)}, not an internal environment on a subnet of this template's VNet");
        }

        if (!job.Body.Get("properties.configuration.triggerType").IsString("Manual"))
        {
            yield return new Violation(id, job.ToString(), $"triggerType is {job.Body.Get("properties.configuration.triggerType").Describe()}, not 'Manual'");
        }

        if (!job.Body.Get("identity.type").IsString("UserAssigned"))
        {
            yield return new Violation(id, job.ToString(), $"identity is {job.Body.Get("identity.type").Describe()}, not one user-assigned identity");
        }
    }

    private static IEnumerable<Violation> CheckIngressRestrictions(PolicyContext ctx, DeployedResource app)
    {
        const string id = "inference-ingress-vnet-only";
        var rules = app.Body.Get("properties.configuration.ingress.ipSecurityRestrictions").Items().ToList();
        if (rules.Count == 0)
        {
            yield return new Violation(id, app.ToString(), "external ingress without IP rules admits every address of the VNet (and whatever is peered or routed to it)");
            yield break;
        }

        var spaces = ctx.OfType("Microsoft.Network/virtualNetworks")
            .SelectMany(v => v.Body.Get("properties.addressSpace.addressPrefixes").Items().Select(p => p.AsString()))
            .OfType<string>()
            .ToList();
        foreach (var rule in rules)
        {
            var name = rule.Get("name").Render();
            var range = rule.Get("ipAddressRange").AsString();
            if (!rule.Get("action").IsString("Allow"))
            {
                yield return new Violation(id, app.ToString(), $"IP rule '{name}' is not an allow rule: with deny rules, every other address is admitted");
            }
            else if (range is null || !spaces.Any(space => Cidr.Contains(space, range)))
            {
                yield return new Violation(id, app.ToString(), $"IP rule '{name}' admits {rule.Get("ipAddressRange").Describe()}, not a range inside a VNet this template declares");
            }
        }
    }

    private static IEnumerable<Violation> CheckReachability(PolicyContext ctx, DeployedResource site)
    {
        const string id = "inference-reachable-from-gateway";
        if (!SiteSettings(ctx, site).TryGetValue("ServerlessServe__Gateway__InferenceBaseUrl", out var baseUrl))
        {
            yield break;
        }

        var match = IngressFqdnUrl().Match(baseUrl);
        var appId = match.Success ? match.Groups["id"].Value.Replace("''", "'", StringComparison.Ordinal) : null;
        var app = appId is null ? null : ctx.OfType(ContainerApps).FirstOrDefault(a => appId.EndsWith($"/providers/{ContainerApps}/{a.Name}", StringComparison.OrdinalIgnoreCase));
        if (app is null)
        {
            yield return new Violation(id, site.ToString(), $"the inference base URL '{baseUrl}' is not the ingress FQDN of a container app this template declares, so nothing shows it resolves inside the VNet");
            yield break;
        }

        if (!app.Body.Get("properties.configuration.ingress.external").IsTrue())
        {
            yield return new Violation(id, app.ToString(), $"ingress is not external: in a Container Apps environment it then admits only apps of the same environment, and {site.ShortName} is not one");
        }

        var subnetId = site.Body.Get("properties.virtualNetworkSubnetId").AsString() ?? string.Empty;
        var cut = subnetId.IndexOf("/subnets/", StringComparison.OrdinalIgnoreCase);
        var vnetId = cut < 0 ? null : subnetId[..cut];
        var vnet = vnetId is null ? null : ctx.OfType("Microsoft.Network/virtualNetworks").FirstOrDefault(v => vnetId.EndsWith($"/virtualNetworks/{v.Name}", StringComparison.OrdinalIgnoreCase));
        var subnetName = cut < 0 ? string.Empty : subnetId[(cut + "/subnets/".Length)..];
        var prefix = vnet?.Body.Get("properties.subnets").Items().FirstOrDefault(s => s.Get("name").IsString(subnetName)).Get("properties.addressPrefix").AsString();
        if (vnet is null || prefix is null)
        {
            yield return new Violation(id, site.ToString(), $"its integration subnet ({subnetId}) is not a subnet with a known prefix in a VNet this template declares");
            yield break;
        }

        var rules = app.Body.Get("properties.configuration.ingress.ipSecurityRestrictions").Items().ToList();
        if (rules.Count > 0 && !rules.Any(r => r.Get("action").IsString("Allow") && r.Get("ipAddressRange").AsString() is { } range && Cidr.Contains(range, prefix)))
        {
            yield return new Violation(id, app.ToString(), $"no IP rule admits {site.ShortName}'s subnet {subnetName} ({prefix})");
        }

        var envId = app.Body.Get("properties.managedEnvironmentId").AsString() ?? string.Empty;
        var zoneName = $"«reference('{TemplateTerms.Quoted(envId)}').defaultDomain»";
        var zone = ctx.OfType("Microsoft.Network/privateDnsZones").FirstOrDefault(z => TemplateTerms.Unversioned(z.Name) == zoneName);
        if (zone is null)
        {
            yield return new Violation(id, app.ToString(), "no private DNS zone is named after its environment's default domain, so its FQDN does not resolve inside the VNet");
            yield break;
        }

        var staticIp = $"«reference('{TemplateTerms.Quoted(envId)}').staticIp»";
        if (!ctx.OfType("Microsoft.Network/privateDnsZones/A").Any(a =>
                TemplateTerms.Unversioned(a.Name) == $"{zoneName}/*"
                && a.Body.Get("properties.aRecords").Items().Any(r => TemplateTerms.Unversioned(r.Get("ipv4Address").Render()) == staticIp)))
        {
            yield return new Violation(id, zone.ToString(), "has no wildcard A record pointing at the environment's static (internal) IP");
        }

        if (!ctx.OfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Any(l =>
                TemplateTerms.Unversioned(l.Name).StartsWith($"{zoneName}/", StringComparison.Ordinal)
                && string.Equals(l.Body.Get("properties.virtualNetwork.id").AsString(), vnetId, StringComparison.OrdinalIgnoreCase)))
        {
            yield return new Violation(id, zone.ToString(), $"is not linked to {vnet.Name}, the VNet of {site.ShortName}'s subnet");
        }
    }

    private static IEnumerable<Violation> CheckProfileFit(PolicyContext ctx, DeployedResource app)
    {
        const string id = "inference-resources-fit-profile";
        var profileName = app.Body.Get("properties.workloadProfileName").AsString() ?? "Consumption";
        var envId = app.Body.Get("properties.managedEnvironmentId").AsString() ?? string.Empty;
        var env = ctx.OfType(ManagedEnvironments).FirstOrDefault(e => envId.EndsWith($"/{ManagedEnvironments}/{e.Name}", StringComparison.OrdinalIgnoreCase));
        var profileType = env?.Body.Get("properties.workloadProfiles").Items().FirstOrDefault(p => p.Get("name").IsString(profileName)).Get("workloadProfileType").AsString();
        if (profileType is null)
        {
            yield return new Violation(id, app.ToString(), $"runs on workload profile '{profileName}', which its environment does not declare");
            yield break;
        }

        foreach (var container in app.Body.Get("properties.template.containers").Items())
        {
            var cpu = container.Get("resources.cpu") is JsonValue v && v.TryGetValue(out double c) ? c : (double?)null;
            var memory = container.Get("resources.memory").AsString();
            var what = $"container '{container.Get("name").Render()}' asks for {cpu?.ToString(CultureInfo.InvariantCulture) ?? "?"} cores and {memory ?? "?"}";
            if (string.Equals(profileType, "Consumption", StringComparison.OrdinalIgnoreCase))
            {
                if (cpu is null or > 4 || GiB(memory) is null or > 8)
                {
                    yield return new Violation(id, app.ToString(), $"{what}; the Consumption profile gives a replica at most 4 cores and 8Gi");
                }
            }
            else if (!GpuProfileSizes.TryGetValue(profileType, out var size))
            {
                yield return new Violation(id, app.ToString(), $"runs on profile type '{profileType}', whose size is not known");
            }
            else if (cpu != size.Cpu || !string.Equals(memory, size.Memory, StringComparison.OrdinalIgnoreCase))
            {
                yield return new Violation(id, app.ToString(), $"{what}; profile type '{profileType}' gives {size.Cpu.ToString(CultureInfo.InvariantCulture)} cores and {size.Memory}");
            }
        }
    }

    private static double? GiB(string? memory) =>
        memory is not null && memory.EndsWith("Gi", StringComparison.Ordinal)
        && double.TryParse(memory[..^2], NumberStyles.Float, CultureInfo.InvariantCulture, out var gib) ? gib : null;

    // https://«reference('<container app id>'[, '<api version>']).configuration.ingress.fqdn»[/path]
    [GeneratedRegex(@"^https://«reference\('(?<id>(?:[^']|'')+)'(?:, '[^']*')?\)\.configuration\.ingress\.fqdn»(/.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IngressFqdnUrl();
}
