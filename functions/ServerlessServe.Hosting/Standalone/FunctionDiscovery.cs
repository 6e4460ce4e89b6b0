using System.Reflection;
using ServerlessServe.Hosting.Functions;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Resolves the functions listed in <c>functions.metadata</c> (what the Functions host indexes) to methods of the app
/// assembly, so the standalone host serves the same functions on the same routes and methods.
/// </summary>
internal static class FunctionDiscovery
{
    /// <summary>
    /// Every function of <paramref name="metadata"/> resolved to its method in <paramref name="assembly"/>: the HTTP
    /// functions (served as routes) and the others (run by the feature that supports their trigger), ordered by name.
    /// </summary>
    public static (IReadOnlyList<HttpFunction> Http, IReadOnlyList<TriggeredFunction> Other) Resolve(Assembly assembly, IReadOnlyList<FunctionMetadata> metadata)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(metadata);
        var scriptFile = Path.GetFileName(assembly.Location);
        var http = new List<HttpFunction>();
        var other = new List<TriggeredFunction>();
        foreach (var function in metadata.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (!string.Equals(Path.GetFileName(function.ScriptFile), scriptFile, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"Function '{function.Name}' lives in {function.ScriptFile}, not in {scriptFile}.");
            }

            var method = Resolve(assembly, function.EntryPoint);
            if (function.Http is { } trigger)
            {
                http.Add(new HttpFunction(function.Name, trigger.Methods, trigger.Route, method));
            }
            else
            {
                other.Add(new TriggeredFunction(function.Name, function.TriggerType, method, function.TriggerProperties ?? new Dictionary<string, string>()));
            }
        }

        return (http, other);
    }

    private static MethodInfo Resolve(Assembly assembly, string entryPoint)
    {
        var dot = entryPoint.LastIndexOf('.');
        var type = dot > 0 ? assembly.GetType(entryPoint[..dot], throwOnError: false) : null;
        var methods = type?.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.Name == entryPoint[(dot + 1)..])
            .ToList();
        return methods is [var method]
            ? method
            : throw new InvalidOperationException($"Entry point '{entryPoint}' is not one public method of {assembly.GetName().Name}; rebuild the app.");
    }
}
