using System.Globalization;
using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>Case-insensitive navigation (ARM property names are case-insensitive) and value tests.</summary>
public static class JsonNodeExtensions
{
    /// <summary>Follows a dotted path of property names; null where one is missing.</summary>
    public static JsonNode? Get(this JsonNode? node, string path)
    {
        foreach (var name in path.Split('.'))
        {
            if (node is not JsonObject obj)
            {
                return null;
            }

            node = obj.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        }

        return node;
    }

    /// <summary>One property by exact name (case-insensitive; dots are part of the name).</summary>
    public static JsonNode? Prop(this JsonNode? node, string name) =>
        node is JsonObject obj ? obj.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value : null;

    public static bool IsTrue(this JsonNode? node) => node is JsonValue v && v.TryGetValue(out bool b) && b;

    public static bool IsFalse(this JsonNode? node) => node is JsonValue v && v.TryGetValue(out bool b) && !b;

    public static string? AsString(this JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    public static bool IsString(this JsonNode? node, string expected) =>
        string.Equals(node.AsString(), expected, StringComparison.OrdinalIgnoreCase);

    public static long? AsInteger(this JsonNode? node)
    {
        if (node is not JsonValue v)
        {
            return null;
        }

        if (v.TryGetValue(out long l))
        {
            return l;
        }

        if (v.TryGetValue(out int i))
        {
            return i;
        }

        return v.TryGetValue(out double d) && d == Math.Floor(d) ? (long)d : null;
    }

    public static IEnumerable<JsonNode?> Items(this JsonNode? node) => node is JsonArray array ? array : [];

    /// <summary>How a value reads in a violation message.</summary>
    public static string Describe(this JsonNode? node) => node switch
    {
        null => "not set",
        _ when Symbolic.Is(node) => $"not known before deployment ({node.AsString()})",
        JsonValue v when v.TryGetValue(out string? s) => $"'{s}'",
        _ => node.ToJsonString(),
    };

    public static string Render(this JsonNode? node) => node switch
    {
        null => string.Empty,
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonValue v when v.TryGetValue(out bool b) => b ? "True" : "False",
        JsonValue v => Convert.ToString(v.GetValue<object>(), CultureInfo.InvariantCulture) ?? string.Empty,
        _ => node.ToJsonString(),
    };
}
