using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>
/// Walks a compiled ARM template the way a deployment would: evaluates conditions and copy loops,
/// descends into nested deployments (Bicep modules) passing each its evaluated parameters, and lists
/// every resource that would be deployed with its expressions evaluated. A module's outputs are
/// evaluated too, so that a later <c>reference('module').outputs.x.value</c> in the parent reads what
/// the module computes (an account's endpoint, a zone's ID) rather than an opaque term.
/// </summary>
public static class TemplateEvaluator
{
    public static IReadOnlyList<DeployedResource> Evaluate(
        JsonObject template,
        IReadOnlyDictionary<string, JsonNode?> parameters,
        DeploymentScope scope = DeploymentScope.Subscription)
    {
        var resources = new List<DeployedResource>();
        _ = Walk(template, parameters, scope, "main", resources);
        return resources;
    }

    /// <summary>Reads a parameters file (<c>{"parameters": {"x": {"value": ...}}}</c>) into values.</summary>
    public static Dictionary<string, JsonNode?> ParametersFrom(JsonObject parametersFile) =>
        (parametersFile.Get("parameters") as JsonObject ?? [])
            .ToDictionary(p => p.Key, p => p.Value.Get("value")?.DeepClone(), StringComparer.OrdinalIgnoreCase);

    /// <summary>Walks one template; returns its evaluated outputs as <c>{name: {value: ...}}</c>.</summary>
    private static JsonObject Walk(
        JsonObject template,
        IReadOnlyDictionary<string, JsonNode?> parameters,
        DeploymentScope scope,
        string path,
        List<DeployedResource> output)
    {
        var evaluator = new ArmEvaluator(template, parameters, scope);
        // Symbolic-name templates (languageVersion 2.0) key resources by name; modules are referenced by it.
        var declared = template.Get("resources") switch
        {
            JsonArray array => array.OfType<JsonObject>().Select(r => (SymbolicName: (string?)null, Resource: r)),
            JsonObject symbolic => symbolic.Where(p => p.Value is JsonObject).Select(p => (SymbolicName: (string?)p.Key, Resource: (JsonObject)p.Value!)),
            _ => [],
        };

        foreach (var (symbolicName, resource) in declared)
        {
            if (resource.Get("existing").IsTrue())
            {
                continue;
            }

            if (resource.Get("copy") is JsonObject copy)
            {
                var loopName = copy.Get("name").AsString() ?? "copy";
                var count = evaluator.EvaluateDeep(copy.Get("count")).AsInteger();
                // An unknown count is walked once with an unknown index, so the body is still checked.
                var indexes = count is null ? [null] : Enumerable.Range(0, (int)count).Select(i => (int?)i);
                foreach (var index in indexes)
                {
                    evaluator.EnterCopy(loopName, index);
                    // A module in a loop has one name for many deployments: its outputs are not registered.
                    Visit(resource, evaluator, scope, path, output, symbolicName: null);
                }

                evaluator.ExitCopy();
            }
            else
            {
                Visit(resource, evaluator, scope, path, output, symbolicName);
            }
        }

        var outputs = new JsonObject();
        foreach (var (name, definition) in template.Get("outputs") as JsonObject ?? [])
        {
            // Output loops are not expanded: such an output stays an unknown term.
            outputs[name] = new JsonObject
            {
                ["value"] = definition.Get("copy") is null
                    ? evaluator.EvaluateDeep(definition.Get("value"))
                    : Symbolic.Of($"outputs('{name}')"),
            };
        }

        return outputs;
    }

    private static void Visit(
        JsonObject resource, ArmEvaluator evaluator, DeploymentScope scope, string path, List<DeployedResource> output, string? symbolicName)
    {
        // A condition that evaluates to false removes the resource; an unknown one keeps it (checked).
        if (resource.ContainsKey("condition") && evaluator.EvaluateDeep(resource.Get("condition")).IsFalse())
        {
            return;
        }

        var type = resource.Get("type").AsString() ?? string.Empty;
        var name = evaluator.EvaluateDeep(resource.Get("name")).Render();

        if (string.Equals(type, "Microsoft.Resources/deployments", StringComparison.OrdinalIgnoreCase))
        {
            var inner = resource.Get("properties.template") as JsonObject
                ?? throw new NotSupportedException($"Deployment '{name}' links a template instead of embedding it.");
            var innerParameters = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in resource.Get("properties.parameters") as JsonObject ?? [])
            {
                innerParameters[key] = value.Prop("value") is { } given
                    ? evaluator.EvaluateDeep(given)
                    : Symbolic.Of($"keyVaultReference('{key}')");
            }

            var innerScope = resource.ContainsKey("resourceGroup") || scope == DeploymentScope.ResourceGroup
                ? DeploymentScope.ResourceGroup
                : DeploymentScope.Subscription;
            var outputs = Walk(inner, innerParameters, innerScope, $"{path}/{name}", output);
            if (symbolicName is not null)
            {
                evaluator.AddDeploymentOutputs(symbolicName, outputs);
            }

            return;
        }

        var body = new JsonObject();
        foreach (var (key, value) in resource)
        {
            if (key is not ("condition" or "copy" or "dependsOn"))
            {
                body[key] = evaluator.EvaluateDeep(value);
            }
        }

        var scopeValue = resource.ContainsKey("scope") ? body.Get("scope").Render() : null;
        output.Add(new DeployedResource(type, name, body, scopeValue, path, scope));
    }
}
