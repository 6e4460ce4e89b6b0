using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>
/// One resource the template would deploy, with every expression evaluated as far as the given
/// parameters allow (see <see cref="Symbolic"/> for what could not be).
/// </summary>
/// <param name="Type">Resource type, e.g. <c>Microsoft.Storage/storageAccounts</c>.</param>
/// <param name="Name">Evaluated name (child resources: <c>parent/child</c>).</param>
/// <param name="Body">The evaluated resource declaration (properties, kind, sku, identity, ...).</param>
/// <param name="Scope">Evaluated <c>scope</c> of an extension resource, or null when it deploys at its deployment's scope.</param>
/// <param name="DeploymentPath">The chain of nested deployments that declares it, e.g. <c>main/storage</c>.</param>
/// <param name="DeploymentScope">Scope of the declaring deployment.</param>
public sealed record DeployedResource(
    string Type,
    string Name,
    JsonObject Body,
    string? Scope,
    string DeploymentPath,
    DeploymentScope DeploymentScope)
{
    public JsonNode? Properties => Body.Get("properties");

    public bool IsType(string type) => string.Equals(Type, type, StringComparison.OrdinalIgnoreCase);

    /// <summary>The last segment of <see cref="Name"/>: the resource's own name.</summary>
    public string ShortName => Name[(Name.LastIndexOf('/') + 1)..];

    public override string ToString() => $"{Type} '{Name}' (in {DeploymentPath})";
}
