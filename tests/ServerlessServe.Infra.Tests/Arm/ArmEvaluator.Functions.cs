using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>The template functions the evaluator computes; every other function is symbolic.</summary>
public sealed partial class ArmEvaluator
{
    private JsonNode? Call(CallExpression call)
    {
        var name = call.Name.ToLowerInvariant();

        // Functions whose arguments must not all be evaluated eagerly.
        switch (name)
        {
            case "if":
                var condition = Evaluate(call.Arguments[0]);
                if (condition is JsonValue v && v.TryGetValue(out bool chosen))
                {
                    return Evaluate(call.Arguments[chosen ? 1 : 2]);
                }

                return SymbolicCall(call.Name, call.Arguments.Select(Evaluate));
            case "parameters":
                return GetParameter(Evaluate(call.Arguments[0]).Render());
            case "variables":
                return GetVariable(Evaluate(call.Arguments[0]).Render());
        }

        var args = call.Arguments.Select(Evaluate).ToList();

        if (name.Contains('.', StringComparison.Ordinal))
        {
            return UserFunction(call.Name, args);
        }

        // Resource IDs keep going with symbolic parts: they render to strings with «» terms.
        switch (name)
        {
            case "resourceid":
                return JsonValue.Create(ResourceId(args));
            case "subscriptionresourceid":
                return JsonValue.Create(SubscriptionResourceId(args));
            case "extensionresourceid":
                return JsonValue.Create($"{args[0].Render()}/providers/{TypeAndNames(args.Skip(1).ToList())}");
            case "tenantresourceid":
                return JsonValue.Create($"/providers/{TypeAndNames(args)}");
            case "format":
                return JsonValue.Create(FormatString(args[0].Render(), args.Skip(1).ToList()));
            case "concat" when args.All(a => a is JsonArray):
                return new JsonArray([.. args.SelectMany(a => ((JsonArray)a!).Select(x => x?.DeepClone()))]);
            case "concat":
                return JsonValue.Create(string.Concat(args.Select(a => a.Render())));
            case "string" when args[0] is JsonValue:
                return JsonValue.Create(args[0].Render());
            case "copyindex":
                return CopyIndex(args);
            case "reference" when args.Count == 1 && args[0].AsString() is { } module && _deploymentOutputs.TryGetValue(module, out var outputs):
                return new JsonObject { ["outputs"] = outputs.DeepClone() };
            case "true":
                return JsonValue.Create(true);
            case "false":
                return JsonValue.Create(false);
            case "null":
                return null;
            case "createarray":
                return new JsonArray([.. args]);
            case "createobject":
                var created = new JsonObject();
                for (var i = 0; i + 1 < args.Count; i += 2)
                {
                    created[args[i].Render()] = args[i + 1];
                }

                return created;
            case "coalesce":
                foreach (var arg in args)
                {
                    if (Symbolic.Is(arg))
                    {
                        return SymbolicCall(call.Name, args);
                    }

                    if (arg is not null)
                    {
                        return arg;
                    }
                }

                return null;
        }

        // Everything below needs fully known arguments.
        if (args.Any(Symbolic.Is))
        {
            return SymbolicCall(call.Name, args);
        }

        return name switch
        {
            "not" => JsonValue.Create(!args[0].IsTrue()),
            "and" => JsonValue.Create(args.All(a => a.IsTrue())),
            "or" => JsonValue.Create(args.Any(a => a.IsTrue())),
            "equals" => JsonValue.Create(JsonNode.DeepEquals(args[0], args[1])),
            "empty" => JsonValue.Create(IsEmpty(args[0])),
            "length" => JsonValue.Create(Length(args[0])),
            "tolower" => JsonValue.Create(args[0].Render().ToLowerInvariant()),
            "toupper" => JsonValue.Create(args[0].Render().ToUpperInvariant()),
            "trim" => JsonValue.Create(args[0].Render().Trim()),
            "startswith" => JsonValue.Create(args[0].Render().StartsWith(args[1].Render(), StringComparison.OrdinalIgnoreCase)),
            "endswith" => JsonValue.Create(args[0].Render().EndsWith(args[1].Render(), StringComparison.OrdinalIgnoreCase)),
            "base64tostring" => JsonValue.Create(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(args[0].Render()))),
            "replace" => JsonValue.Create(args[0].Render().Replace(args[1].Render(), args[2].Render(), StringComparison.Ordinal)),
            "json" => ParseJson(args[0].Render()),
            "bool" => JsonValue.Create(args[0].IsTrue() || args[0].IsString("true")),
            "int" => JsonValue.Create(long.Parse(args[0].Render(), System.Globalization.CultureInfo.InvariantCulture)),
            "add" => JsonValue.Create(Integer(args[0]) + Integer(args[1])),
            "sub" => JsonValue.Create(Integer(args[0]) - Integer(args[1])),
            "mul" => JsonValue.Create(Integer(args[0]) * Integer(args[1])),
            "max" => JsonValue.Create((args.Count == 1 && args[0] is JsonArray values ? values.Select(Integer) : args.Select(Integer)).Max()),
            "min" => JsonValue.Create((args.Count == 1 && args[0] is JsonArray values ? values.Select(Integer) : args.Select(Integer)).Min()),
            "union" => Union(args),
            "items" => Items(args[0]),
            "trygetproperty" or "tryget" => TryGet(args),
            "contains" => JsonValue.Create(Contains(args[0], args[1])),
            "cidrhost" => CidrHost(args[0].Render(), Integer(args[1])),
            "first" => args[0] is JsonArray a0 ? a0.FirstOrDefault()?.DeepClone() : JsonValue.Create(args[0].Render()[..1]),
            "last" => args[0] is JsonArray a1 ? a1.LastOrDefault()?.DeepClone() : JsonValue.Create(args[0].Render()[^1..]),
            _ => SymbolicCall(call.Name, args),
        };
    }

    /// <summary>
    /// ARM's cidrHost for IPv4: the usable address at <paramref name="index"/>, index 0 being the one after the network
    /// address. Past the last usable address (before the broadcast) it fails, as a deployment would. IPv6 stays symbolic.
    /// </summary>
    private static JsonNode? CidrHost(string network, long index)
    {
        if (!Policy.Cidr.TryParse(network, out var start, out var length) || !network.Contains('/', StringComparison.Ordinal))
        {
            return SymbolicCall("cidrHost", [JsonValue.Create(network), JsonValue.Create(index)]);
        }

        var lastUsable = (long)start + (1L << (32 - length)) - 2;
        var address = start + 1 + index;
        return index >= 0 && address <= lastUsable
            ? JsonValue.Create(Policy.Cidr.Address((uint)address).ToString())
            : throw new InvalidOperationException($"cidrHost('{network}', {index}): no usable address at that index");
    }

    private static long Integer(JsonNode? value) => long.Parse(value.Render(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A user-defined function (<c>functions</c> section, e.g. Bicep's <c>__bicep</c> namespace): its output
    /// evaluated with only its own parameters bound, as ARM does. Unknown functions stay symbolic.
    /// </summary>
    private JsonNode? UserFunction(string qualifiedName, List<JsonNode?> args)
    {
        var dot = qualifiedName.IndexOf('.', StringComparison.Ordinal);
        var (space, member) = (qualifiedName[..dot], qualifiedName[(dot + 1)..]);
        var definition = _template.Get("functions").Items()
            .Where(f => f.Get("namespace").IsString(space))
            .Select(f => f.Get("members").Prop(member))
            .FirstOrDefault(m => m is not null);
        if (definition is null)
        {
            return SymbolicCall(qualifiedName, args);
        }

        var declared = definition.Get("parameters").Items().ToList();
        var bound = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        var parameters = new JsonObject();
        for (var i = 0; i < declared.Count; i++)
        {
            var parameterName = declared[i].Get("name").Render();
            parameters[parameterName] = declared[i]?.DeepClone();
            bound[parameterName] = i < args.Count ? args[i]?.DeepClone() : null;
        }

        var scope = new JsonObject { ["parameters"] = parameters, ["functions"] = _template.Get("functions")?.DeepClone() };
        return new ArmEvaluator(scope, bound, Scope).EvaluateDeep(definition.Get("output.value"));
    }

    private JsonNode CopyIndex(List<JsonNode?> args)
    {
        string? loop = _currentCopy;
        long offset = 0;
        foreach (var arg in args)
        {
            if (arg.AsString() is { } loopName)
            {
                loop = loopName;
            }
            else
            {
                offset = arg.AsInteger() ?? 0;
            }
        }

        if (loop is not null && _copyIndexes.TryGetValue(loop, out var index) && index is not null)
        {
            return JsonValue.Create(index.Value + offset);
        }

        return SymbolicCall("copyIndex", args);
    }

    private string ResourceId(List<JsonNode?> args)
    {
        // resourceId([subscriptionId], [resourceGroupName], resourceType, name1, ...): the type is the
        // first argument shaped like Namespace.Provider/type.
        var typeIndex = args.FindIndex(a => a.AsString() is { } s && s.Contains('/', StringComparison.Ordinal) && s.Contains('.', StringComparison.Ordinal) && !s.StartsWith('/'));
        var subscription = typeIndex >= 2 ? args[0].Render() : "«subscription().subscriptionId»";
        var group = typeIndex >= 1 ? args[typeIndex - 1].Render() : Scope == DeploymentScope.ResourceGroup ? "«resourceGroup().name»" : null;
        var rest = TypeAndNames(args.Skip(typeIndex).ToList());
        return group is null
            ? $"/subscriptions/{subscription}/providers/{rest}"
            : $"/subscriptions/{subscription}/resourceGroups/{group}/providers/{rest}";
    }

    private static string SubscriptionResourceId(List<JsonNode?> args)
    {
        var typeIndex = args.FindIndex(a => a.AsString() is { } s && s.Contains('/', StringComparison.Ordinal) && s.Contains('.', StringComparison.Ordinal));
        var subscription = typeIndex >= 1 ? args[0].Render() : "«subscription().subscriptionId»";
        return $"/subscriptions/{subscription}/providers/{TypeAndNames(args.Skip(typeIndex).ToList())}";
    }

    /// <summary>Interleaves <c>Namespace/type1/type2</c> with names: <c>Namespace/type1/name1/type2/name2</c>.</summary>
    private static string TypeAndNames(List<JsonNode?> args)
    {
        var types = args[0].Render().Split('/');
        var parts = new List<string> { types[0] };
        for (var i = 1; i < types.Length; i++)
        {
            parts.Add(types[i]);
            parts.Add(i < args.Count ? args[i].Render() : string.Empty);
        }

        return string.Join('/', parts);
    }

    private static bool IsEmpty(JsonNode? node) => node switch
    {
        null => true,
        JsonArray a => a.Count == 0,
        JsonObject o => o.Count == 0,
        JsonValue v when v.TryGetValue(out string? s) => s.Length == 0,
        _ => false,
    };

    private static long Length(JsonNode? node) => node switch
    {
        JsonArray a => a.Count,
        JsonObject o => o.Count,
        _ => node.Render().Length,
    };

    private static bool Contains(JsonNode? container, JsonNode? item) => container switch
    {
        JsonArray a => a.Any(x => JsonNode.DeepEquals(x, item)),
        JsonObject o => o.Any(p => string.Equals(p.Key, item.Render(), StringComparison.OrdinalIgnoreCase)),
        _ => container.Render().Contains(item.Render(), StringComparison.OrdinalIgnoreCase),
    };

    private static JsonNode? Union(List<JsonNode?> args)
    {
        if (args.All(a => a is JsonArray))
        {
            var merged = new JsonArray();
            foreach (var item in args.SelectMany(a => (JsonArray)a!))
            {
                if (!merged.Any(m => JsonNode.DeepEquals(m, item)))
                {
                    merged.Add(item?.DeepClone());
                }
            }

            return merged;
        }

        var result = new JsonObject();
        foreach (var obj in args.OfType<JsonObject>())
        {
            foreach (var (key, value) in obj)
            {
                result[key] = result[key] is JsonObject existing && value is JsonObject incoming
                    ? Union([existing, incoming])
                    : value?.DeepClone();
            }
        }

        return result;
    }

    private static JsonArray Items(JsonNode? node)
    {
        var entries = node is JsonObject obj
            ? obj.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase)
                .Select(p => (JsonNode?)new JsonObject { ["key"] = p.Key, ["value"] = p.Value?.DeepClone() })
            : [];
        return new JsonArray([.. entries]);
    }

    private static JsonNode? TryGet(List<JsonNode?> args)
    {
        var current = args[0];
        foreach (var key in args.Skip(1))
        {
            current = (current, key.AsInteger(), key.AsString()) switch
            {
                (JsonArray array, long i, _) when i >= 0 && i < array.Count => array[(int)i],
                (JsonObject obj, _, string name) => obj.Prop(name),
                _ => null,
            };
        }

        return current?.DeepClone();
    }
}
