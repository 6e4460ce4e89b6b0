using ServerlessServe.Infra.Tests.Arm;

namespace ServerlessServe.Infra.Tests.Policy;

/// <summary>What a rule sees: the resources a deployment would create, and whether it asked for the VNet.</summary>
public sealed record PolicyContext(IReadOnlyList<DeployedResource> Resources, bool VnetEnabled)
{
    public IEnumerable<DeployedResource> OfType(string type) => Resources.Where(r => r.IsType(type));
}
