using System.Reflection;
using ServerlessServe.Hosting.Functions;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Resolves the functions listed in <c>functions.metadata</c> (what the Functions host indexes) to methods of the app
/// assembly, so the standalone host serves the same functions on the same routes and methods.
/// </summary>
internal static class FunctionDiscovery
{
    /// <summary>Every function of <paramref name="metadata"/> as an HTTP function of <paramref name="assembly"/>, ordered by name.</summary>
    public static IReadOnlyList<HttpFunction> HttpFunctions(Assembly assembly, IReadOnlyList<FunctionMetadata> metadata)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(metadata);
        var scriptFile = Path.GetFileName(assembly.Location);
        var functions = new List<HttpFunction>();
        foreach (var function in metadata)
        {
            if (function.Http is not { } http)
            {
                throw new InvalidOperationException(
                    $"Function '{function.Name}' has a {function.TriggerType}; standalone hosting supports HTTP functions only.");
            }

            if (!string.Equals(Path.GetFileName(function.ScriptFile), scriptFile, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"Function '{function.Name}' lives in {function.ScriptFile}, not in {scriptFile}.");
            }

            functions.Add(new HttpFunction(function.Name, http.Methods, http.Route, Resolve(assembly, function.EntryPoint)));
        }

        return functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
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
