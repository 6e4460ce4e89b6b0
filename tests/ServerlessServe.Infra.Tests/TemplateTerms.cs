using System.Text.RegularExpressions;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests;

/// <summary>How the evaluated template names resources, references and role assignments: shared by the tests that follow identities and roles.</summary>
internal static partial class TemplateTerms
{
    /// <summary>The resource group's ID as the evaluator renders it.</summary>
    public const string RgPrefix = "/subscriptions/«subscription().subscriptionId»/resourceGroups/«resourceGroup().name»";

    /// <summary>The resource ID of the one user-assigned identity whose name starts with <paramref name="prefix"/>.</summary>
    public static string IdentityId(PolicyContext context, string prefix) =>
        Id(Assert.Single(context.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"), i => i.Name.StartsWith(prefix, StringComparison.Ordinal)));

    /// <summary>The resource ID of a top-level resource in the resource group, as the evaluator renders IDs.</summary>
    public static string Id(DeployedResource resource) => $"{RgPrefix}/providers/{resource.Type}/{resource.Name}";

    /// <summary>A string as it appears quoted inside a symbolic term (quotes doubled).</summary>
    public static string Quoted(string text) => text.Replace("'", "''", StringComparison.Ordinal);

    /// <summary>«reference('id').path» — a property of a deployed resource, API version left out.</summary>
    public static string ReferenceTo(string resourceId, string path) => $"«reference('{Quoted(resourceId)}').{path}»";

    /// <summary>A symbolic term with its API version arguments left out.</summary>
    public static string Unversioned(string term) => ApiVersionArgument().Replace(term, "')");

    /// <summary>Whether a role assignment at <paramref name="scope"/> grants something on <paramref name="resourceId"/>.</summary>
    public static bool Reaches(string? scope, string resourceId) =>
        scope is null
        || scope == resourceId
        || resourceId.StartsWith($"{scope}/", StringComparison.Ordinal)
        || scope.StartsWith($"{resourceId}/", StringComparison.Ordinal);

    /// <summary>The role definition GUID of a role assignment.</summary>
    public static string RoleGuid(DeployedResource assignment)
    {
        var id = assignment.Body.Get("properties.roleDefinitionId").AsString()!;
        return id[(id.LastIndexOf('/') + 1)..];
    }

    [GeneratedRegex(@"', '\d{4}-\d{2}-\d{2}(-preview)?'\)", RegexOptions.CultureInvariant)]
    private static partial Regex ApiVersionArgument();
}
