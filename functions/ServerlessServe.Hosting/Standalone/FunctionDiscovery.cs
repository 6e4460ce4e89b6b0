using System.Reflection;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Finds the functions of a Function App assembly by reading the same attributes the Functions SDK reads
/// (<c>[Function]</c> on the method, <c>[HttpTrigger]</c> on a parameter). Attributes are matched by full type name so
/// Core needs no Functions SDK reference.
/// </summary>
internal static class FunctionDiscovery
{
    private const string FunctionAttribute = "Microsoft.Azure.Functions.Worker.FunctionAttribute";
    private const string HttpTriggerAttribute = "Microsoft.Azure.Functions.Worker.HttpTriggerAttribute";

    /// <summary>Every <c>[Function]</c> method with an HTTP trigger, ordered by name.</summary>
    public static IReadOnlyList<HttpFunction> HttpFunctions(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var functions = new List<HttpFunction>();
        foreach (var type in assembly.GetExportedTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                var function = method.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == FunctionAttribute);
                if (function is null)
                {
                    continue;
                }

                var name = (string)function.ConstructorArguments[0].Value!;
                var trigger = method.GetParameters()
                    .SelectMany(p => p.GetCustomAttributesData())
                    .FirstOrDefault(a => a.AttributeType.FullName == HttpTriggerAttribute)
                    ?? throw new InvalidOperationException($"Function '{name}' has no HTTP trigger; standalone hosting supports HTTP functions only.");
                functions.Add(new HttpFunction(name, Methods(trigger), Route(trigger, name), method));
            }
        }

        return functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
    }

    private static List<string> Methods(CustomAttributeData trigger)
    {
        // HttpTriggerAttribute(AuthorizationLevel authLevel, params string[] methods)
        foreach (var argument in trigger.ConstructorArguments)
        {
            if (argument.Value is IReadOnlyCollection<CustomAttributeTypedArgument> values)
            {
                return values.Select(v => ((string)v.Value!).ToUpperInvariant()).ToList();
            }
        }

        var named = trigger.NamedArguments.FirstOrDefault(a => a.MemberName == "Methods");
        return named.TypedValue.Value is IReadOnlyCollection<CustomAttributeTypedArgument> list
            ? list.Select(v => ((string)v.Value!).ToUpperInvariant()).ToList()
            : ["GET", "POST"];
    }

    private static string Route(CustomAttributeData trigger, string functionName)
    {
        var route = trigger.NamedArguments.FirstOrDefault(a => a.MemberName == "Route").TypedValue.Value as string;
        return string.IsNullOrEmpty(route) ? functionName : route;
    }
}
