using System.Globalization;
using System.Text.Json.Nodes;
using ServerlessServe.Infra.Tests.Arm;
using ServerlessServe.Infra.Tests.Policy;

namespace ServerlessServe.Infra.Tests;

/// <summary>
/// A non-compliant case built from the real compiled template: one property of one declared resource changed
/// (or one array item added or removed), then evaluated like the real deployment. A mutation must find what it
/// changes in the real template, so a rule can never be "proved" against a path the template does not set.
/// </summary>
/// <param name="Name">What the case breaks, in words (the theory row).</param>
/// <param name="RuleId">The rule that must reject it.</param>
/// <param name="Offender">Text the rule's violation must name (a resource name or part of it).</param>
/// <param name="Change">The edit, applied to a deep copy of the compiled template.</param>
/// <param name="VnetEnabled">The posture to evaluate (most rules matter with the VNet).</param>
/// <param name="Parameters">Template parameters beyond the fixture's (the real template must pass with them unchanged).</param>
public sealed record TemplateMutation(string Name, string RuleId, string Offender, Action<JsonObject> Change, bool VnetEnabled = true, IReadOnlyDictionary<string, JsonNode?>? Parameters = null)
{
    public override string ToString() => Name;

    /// <summary>The mutated template, evaluated with the fixture's parameters (plus <see cref="Parameters"/>).</summary>
    public PolicyContext Evaluate(JsonObject compiled)
    {
        var copy = compiled.DeepClone().AsObject();
        Change(copy);
        var parameters = CompiledTemplateFixture.Parameters(VnetEnabled);
        foreach (var (key, value) in Parameters ?? new Dictionary<string, JsonNode?>())
        {
            parameters[key] = value?.DeepClone();
        }

        return new PolicyContext(TemplateEvaluator.Evaluate(copy, parameters), VnetEnabled);
    }

    /// <summary>
    /// The declaration of a resource: <paramref name="modulePath"/> names the nested deployments from main by their
    /// symbolic names or, in modules compiled without them, by text their name expression contains ("" for main
    /// itself); <paramref name="type"/> the resource type; <paramref name="nameContains"/> picks one when a module
    /// declares several of that type. Exactly one must match.
    /// </summary>
    public static JsonObject Resource(JsonObject template, string modulePath, string type, string? nameContains = null)
    {
        var declared = Declared(Module(template, modulePath)).Where(r => r.Body.Get("type").IsString(type)).ToList();
        if (nameContains is not null && declared.Any(r => r.Symbol == nameContains))
        {
            return declared.Single(r => r.Symbol == nameContains).Body;
        }

        return Single(
            declared,
            r => nameContains is null || r.Body.Get("name").Render().Contains(nameContains, StringComparison.Ordinal),
            $"{type} '{nameContains}' in '{modulePath}'").Body;
    }

    /// <summary>The template of a nested deployment (see <see cref="Resource"/> for <paramref name="modulePath"/>): its <c>variables</c> can be changed too.</summary>
    public static JsonObject Module(JsonObject template, string modulePath)
    {
        var scope = template;
        foreach (var segment in modulePath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var module = Single(Declared(scope), r => r.Symbol == segment || (r.Symbol is null && r.Body.Get("name").Render().Contains(segment, StringComparison.Ordinal)), $"module '{segment}'")
                .Body;
            scope = module.Get("properties.template") as JsonObject
                ?? throw new InvalidOperationException($"'{segment}' is not a nested deployment with an inline template");
        }

        return scope;
    }

    /// <summary>Replaces the value at a path that the real template sets (dots; <c>[n]</c> for array items).</summary>
    public static void Set(JsonObject resource, string path, JsonNode? value)
    {
        var (parent, last) = Parent(resource, path);
        switch (parent)
        {
            case JsonObject obj:
                var key = obj.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, last, StringComparison.OrdinalIgnoreCase))
                    ?? throw new InvalidOperationException($"the real template does not set '{path}'");
                obj[key] = value;
                break;
            case JsonArray array:
                array[Index(array, last, path)] = value;
                break;
            default:
                throw new InvalidOperationException($"the real template does not set '{path}'");
        }
    }

    /// <summary>Removes a property or array item that the real template sets.</summary>
    public static void Remove(JsonObject resource, string path)
    {
        var (parent, last) = Parent(resource, path);
        switch (parent)
        {
            case JsonObject obj:
                var key = obj.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, last, StringComparison.OrdinalIgnoreCase))
                    ?? throw new InvalidOperationException($"the real template does not set '{path}'");
                obj.Remove(key);
                break;
            case JsonArray array:
                array.RemoveAt(Index(array, last, path));
                break;
            default:
                throw new InvalidOperationException($"the real template does not set '{path}'");
        }
    }

    /// <summary>Adds an item to an array that the real template declares (at <paramref name="index"/>, else at the end).</summary>
    public static void Insert(JsonObject resource, string arrayPath, JsonNode item, int? index = null)
    {
        var array = Navigate(resource, arrayPath) as JsonArray
            ?? throw new InvalidOperationException($"the real template declares no array at '{arrayPath}'");
        array.Insert(index ?? array.Count, item);
    }

    /// <summary>The one item of the array at <paramref name="arrayPath"/> whose <c>name</c> is <paramref name="name"/> (an app setting, an env var, a rule).</summary>
    public static JsonObject Named(JsonNode node, string arrayPath, string name) =>
        (Navigate(node, arrayPath) as JsonArray)?.OfType<JsonObject>().SingleOrDefault(i => i.Get("name").IsString(name))
        ?? throw new InvalidOperationException($"the real template has no item named '{name}' in '{arrayPath}'");

    /// <summary>The node at a path the real template sets.</summary>
    public static JsonNode Navigate(JsonNode node, string path)
    {
        JsonNode? current = node;
        foreach (var segment in Segments(path))
        {
            current = current switch
            {
                JsonObject obj => obj.FirstOrDefault(p => string.Equals(p.Key, segment, StringComparison.OrdinalIgnoreCase)).Value,
                JsonArray array => array[Index(array, segment, path)],
                _ => null,
            };
            if (current is null)
            {
                throw new InvalidOperationException($"the real template does not set '{path}' (no '{segment}')");
            }
        }

        return current!;
    }

    private static (JsonNode Parent, string Last) Parent(JsonNode node, string path)
    {
        var segments = Segments(path);
        var parent = segments.Count == 1 ? node : Navigate(node, string.Join('.', segments.SkipLast(1)));
        return (parent, segments[^1]);
    }

    /// <summary>"a.b[2].c" → a, b, [2], c.</summary>
    private static List<string> Segments(string path) =>
        path.Replace("[", ".[", StringComparison.Ordinal).Split('.', StringSplitOptions.RemoveEmptyEntries).ToList();

    private static int Index(JsonArray array, string segment, string path)
    {
        if (!segment.StartsWith('[') || !int.TryParse(segment.Trim('[', ']'), NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= array.Count)
        {
            throw new InvalidOperationException($"the real template does not set '{path}' (no item {segment})");
        }

        return index;
    }

    private static IEnumerable<(string? Symbol, JsonObject Body)> Declared(JsonObject template) =>
        template["resources"] switch
        {
            JsonObject symbolic => symbolic.Select(p => ((string?)p.Key, p.Value!.AsObject())),
            JsonArray list => list.OfType<JsonObject>().Select(r => ((string?)null, r)),
            _ => [],
        };

    private static (string? Symbol, JsonObject Body) Single(IEnumerable<(string? Symbol, JsonObject Body)> candidates, Func<(string? Symbol, JsonObject Body), bool> match, string what)
    {
        var found = candidates.Where(match).ToList();
        return found.Count == 1
            ? found[0]
            : throw new InvalidOperationException($"{what}: {found.Count} declarations match, expected exactly one");
    }
}
