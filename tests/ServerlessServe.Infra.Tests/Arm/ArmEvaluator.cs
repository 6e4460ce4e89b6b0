using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>
/// Evaluates ARM expressions of one template with given parameter values. Deterministic functions
/// over known values are computed (parameters, variables, format, concat, if, union, items,
/// resourceId, ...); anything that depends on the deployment (reference, list*, uniqueString, guid,
/// subscription, environment, ...) becomes a <see cref="Symbolic"/> term. Unknown never turns into
/// "compliant": a rule comparing a symbolic term with a literal fails.
/// </summary>
public sealed partial class ArmEvaluator
{
    private readonly JsonObject _template;
    private readonly IReadOnlyDictionary<string, JsonNode?> _supplied;
    private readonly Dictionary<string, JsonNode?> _parameters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, JsonNode?> _variables = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _inProgress = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int?> _copyIndexes = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, JsonObject> _deploymentOutputs = new(StringComparer.OrdinalIgnoreCase);
    private string? _currentCopy;

    public ArmEvaluator(JsonObject template, IReadOnlyDictionary<string, JsonNode?> parameters, DeploymentScope scope)
    {
        _template = template;
        _supplied = new Dictionary<string, JsonNode?>(parameters, StringComparer.OrdinalIgnoreCase);
        Scope = scope;
    }

    public DeploymentScope Scope { get; }

    /// <summary>Sets the index of a copy loop (null: not known) for <c>copyIndex()</c>.</summary>
    public void EnterCopy(string name, int? index)
    {
        _copyIndexes[name] = index;
        _currentCopy = name;
    }

    public void ExitCopy() => _currentCopy = null;

    /// <summary>
    /// Records the evaluated outputs (<c>{name: {value: ...}}</c>) of a nested deployment declared under
    /// <paramref name="symbolicName"/>: from then on <c>reference('symbolicName')</c> returns them as
    /// <c>{outputs: ...}</c>. A module that is not deployed (condition false) is never recorded, so a
    /// reference to it stays an unknown term.
    /// </summary>
    public void AddDeploymentOutputs(string symbolicName, JsonObject outputs) =>
        _deploymentOutputs[symbolicName] = (JsonObject)outputs.DeepClone();

    /// <summary>Evaluates every expression in a JSON tree (property names included); returns a new tree.</summary>
    public JsonNode? EvaluateDeep(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var result = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    var name = ArmExpressionParser.IsExpression(key) ? Evaluate(key).Render() : Unescape(key);
                    result[name] = EvaluateDeep(value);
                }

                return result;
            case JsonArray array:
                return new JsonArray([.. array.Select(EvaluateDeep)]);
            case JsonValue value when value.TryGetValue(out string? text):
                return ArmExpressionParser.IsExpression(text) ? Evaluate(text) : JsonValue.Create(Unescape(text));
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>Evaluates one <c>[expression]</c> string.</summary>
    public JsonNode? Evaluate(string bracketed) =>
        Evaluate(ArmExpressionParser.Parse(bracketed[1..^1]));

    private static string Unescape(string text) => text.StartsWith("[[", StringComparison.Ordinal) ? text[1..] : text;

    private JsonNode? Evaluate(ArmExpression expression) => expression switch
    {
        LiteralExpression literal => literal.Value?.DeepClone(),
        CallExpression call => Call(call),
        MemberExpression member => Member(Evaluate(member.Target), member.Name),
        IndexExpression index => Index(Evaluate(index.Target), Evaluate(index.Index)),
        _ => throw new NotSupportedException(expression.GetType().Name),
    };

    private static JsonNode? Member(JsonNode? target, string name)
    {
        if (Symbolic.TryGetInner(target, out var inner))
        {
            return Symbolic.Of($"{inner}.{name}");
        }

        return target is JsonObject ? target.Prop(name)?.DeepClone() : Symbolic.Of($"{Canonical(target)}.{name}");
    }

    private static JsonNode? Index(JsonNode? target, JsonNode? index)
    {
        if (Symbolic.TryGetInner(target, out var inner))
        {
            return Symbolic.Of($"{inner}[{Canonical(index)}]");
        }

        return (target, index.AsInteger(), index.AsString()) switch
        {
            (JsonArray array, long i, _) when i >= 0 && i < array.Count => array[(int)i]?.DeepClone(),
            (JsonObject obj, _, string key) => obj.Prop(key)?.DeepClone(),
            _ => Symbolic.Of($"{Canonical(target)}[{Canonical(index)}]"),
        };
    }

    private JsonNode? GetParameter(string name)
    {
        if (_parameters.TryGetValue(name, out var cached))
        {
            return cached?.DeepClone();
        }

        JsonNode? value;
        if (_supplied.TryGetValue(name, out var supplied))
        {
            value = supplied?.DeepClone();
        }
        else
        {
            var definition = _template.Get("parameters").Prop(name);
            value = definition is JsonObject d && d.ContainsKey("defaultValue")
                ? Guarded($"parameter {name}", () => EvaluateDeep(definition.Get("defaultValue")))
                : Symbolic.Of($"parameters('{name}')");
        }

        _parameters[name] = value;
        return value?.DeepClone();
    }

    private JsonNode? GetVariable(string name)
    {
        if (_variables.TryGetValue(name, out var cached))
        {
            return cached?.DeepClone();
        }

        var variables = _template.Get("variables") as JsonObject;
        JsonNode? value;
        var loop = variables?.Get("copy").Items().OfType<JsonObject>()
            .FirstOrDefault(c => string.Equals(c.Get("name").AsString(), name, StringComparison.OrdinalIgnoreCase));
        if (loop is not null)
        {
            value = Guarded($"variable {name}", () => EvaluateVariableLoop(name, loop));
        }
        else if (variables is not null && variables.Prop(name) is { } definition)
        {
            value = Guarded($"variable {name}", () => EvaluateDeep(definition));
        }
        else
        {
            throw new KeyNotFoundException($"The template has no variable '{name}'.");
        }

        _variables[name] = value;
        return value?.DeepClone();
    }

    private JsonNode EvaluateVariableLoop(string name, JsonObject loop)
    {
        var count = EvaluateDeep(loop.Get("count")).AsInteger();
        if (count is null)
        {
            return Symbolic.Of($"variables('{name}')");
        }

        var items = new JsonArray();
        var previous = _currentCopy;
        for (var i = 0; i < count; i++)
        {
            EnterCopy(name, i);
            items.Add(EvaluateDeep(loop.Get("input")));
        }

        _currentCopy = previous;
        return items;
    }

    private JsonNode? Guarded(string what, Func<JsonNode?> evaluate)
    {
        if (!_inProgress.Add(what))
        {
            throw new InvalidOperationException($"Circular reference while evaluating {what}.");
        }

        try
        {
            return evaluate();
        }
        finally
        {
            _inProgress.Remove(what);
        }
    }

    /// <summary>The canonical text of a value inside a symbolic term.</summary>
    private static string Canonical(JsonNode? node)
    {
        if (Symbolic.TryGetInner(node, out var inner))
        {
            return inner;
        }

        return node switch
        {
            null => "null()",
            JsonValue v when v.TryGetValue(out string? s) => $"'{s.Replace("'", "''", StringComparison.Ordinal)}'",
            JsonValue v when v.TryGetValue(out bool b) => b ? "true()" : "false()",
            _ => node.ToJsonString(),
        };
    }

    private static JsonNode SymbolicCall(string name, IEnumerable<JsonNode?> arguments) =>
        Symbolic.Of($"{name}({string.Join(", ", arguments.Select(Canonical))})");

    private static string FormatString(string format, IReadOnlyList<JsonNode?> arguments)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c == '{' && i + 1 < format.Length && format[i + 1] == '{')
            {
                builder.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < format.Length && format[i + 1] == '}')
            {
                builder.Append('}');
                i++;
            }
            else if (c == '{')
            {
                var end = format.IndexOf('}', i);
                var spec = format[(i + 1)..end].Split(':')[0];
                builder.Append(arguments[int.Parse(spec, CultureInfo.InvariantCulture)].Render());
                i = end;
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static JsonNode? ParseJson(string text) => JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true });
}
