using System.Text.Json;

namespace ServerlessServe.Hosting.Functions;

/// <summary>One function as the build's <c>functions.metadata</c> describes it to the Functions host.</summary>
/// <param name="Name">The function's name.</param>
/// <param name="ScriptFile">The assembly that holds it, relative to the app folder.</param>
/// <param name="EntryPoint">The method, <c>Namespace.Class.Method</c>.</param>
/// <param name="TriggerType">The trigger binding's type (<c>httpTrigger</c>, ...).</param>
/// <param name="Http">The HTTP trigger, when <paramref name="TriggerType"/> is <c>httpTrigger</c>.</param>
/// <param name="TriggerProperties">The trigger binding's string-valued properties (a timer's <c>schedule</c>, ...).</param>
internal sealed record FunctionMetadata(string Name, string ScriptFile, string EntryPoint, string TriggerType, HttpTriggerMetadata? Http, IReadOnlyDictionary<string, string>? TriggerProperties = null);

/// <summary>An HTTP trigger: the parameter it binds to, the methods (upper case) and the route under the route prefix.</summary>
internal sealed record HttpTriggerMetadata(string Parameter, IReadOnlyList<string> Methods, string Route);

/// <summary>
/// Reads <c>functions.metadata</c>, the file the Functions Worker SDK writes into an app's build output and the
/// Functions host indexes. The standalone host serves exactly what it lists, so both hosts map the same routes.
/// </summary>
internal static class FunctionsMetadata
{
    public const string FileName = "functions.metadata";

    /// <summary>Every HTTP method the Functions host accepts, used when a trigger names none.</summary>
    public static readonly IReadOnlyList<string> AllMethods = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];

    /// <summary>The functions listed in <paramref name="directory"/>'s <c>functions.metadata</c>.</summary>
    /// <exception cref="FileNotFoundException">The folder has no <c>functions.metadata</c> (not a built Function App).</exception>
    public static IReadOnlyList<FunctionMetadata> Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"No {FileName} in {directory}: the Functions Worker SDK writes it into a Function App's build output; build the app first.", path);
        }

        return Parse(File.ReadAllBytes(path));
    }

    /// <summary>Parses the contents of a <c>functions.metadata</c> file.</summary>
    public static IReadOnlyList<FunctionMetadata> Parse(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        using var document = JsonDocument.ParseValue(ref reader);
        var functions = new List<FunctionMetadata>();
        foreach (var function in document.RootElement.EnumerateArray())
        {
            var name = Required(function, "name");
            JsonElement? trigger = null;
            foreach (var binding in function.GetProperty("bindings").EnumerateArray())
            {
                if (binding.TryGetProperty("type", out var type)
                    && type.GetString() is { } typeName
                    && typeName.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase))
                {
                    trigger = binding;
                    break;
                }
            }

            if (trigger is not { } triggerBinding)
            {
                throw new InvalidDataException($"Function '{name}' in {FileName} has no trigger binding.");
            }

            var triggerType = Required(triggerBinding, "type");
            HttpTriggerMetadata? http = null;
            if (string.Equals(triggerType, "httpTrigger", StringComparison.OrdinalIgnoreCase))
            {
                var methods = triggerBinding.TryGetProperty("methods", out var list) && list.ValueKind == JsonValueKind.Array
                    ? list.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).Distinct(StringComparer.Ordinal).ToList()
                    : [.. AllMethods];
                var route = triggerBinding.TryGetProperty("route", out var r) && r.GetString() is { Length: > 0 } text ? text : name;
                http = new HttpTriggerMetadata(Required(triggerBinding, "name"), methods, route);
            }

            var properties = triggerBinding.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.String)
                .ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.OrdinalIgnoreCase);
            functions.Add(new FunctionMetadata(name, Required(function, "scriptFile"), Required(function, "entryPoint"), triggerType, http, properties));
        }

        return functions;
    }

    private static string Required(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.GetString() is { Length: > 0 } text
            ? text
            : throw new InvalidDataException($"An entry in {FileName} has no '{property}'.");
}
