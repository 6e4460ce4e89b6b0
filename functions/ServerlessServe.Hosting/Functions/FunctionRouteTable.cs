using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using ServerlessServe.Hosting.Standalone;

namespace ServerlessServe.Hosting.Functions;

/// <summary>
/// The HTTP routes of a Function App, from its <c>functions.metadata</c> and the route prefix in <c>host.json</c> — what
/// either host maps. Answers which methods a path allows, so the catch-all function can tell "no such route" (404)
/// from "not with this method" (405) the same way under both hosts.
/// </summary>
public sealed class FunctionRouteTable
{
    private readonly IReadOnlyList<(TemplateMatcher Matcher, IReadOnlyList<string> Methods)> _routes;

    private FunctionRouteTable(IReadOnlyList<(TemplateMatcher, IReadOnlyList<string>)> routes) => _routes = routes;

    /// <summary>The routes of the app built into <paramref name="directory"/>.</summary>
    public static FunctionRouteTable Load(string directory)
    {
        var prefix = HostJson.RoutePrefix(directory);
        var routes = new List<(TemplateMatcher, IReadOnlyList<string>)>();
        foreach (var function in FunctionsMetadata.Load(directory))
        {
            if (function.Http is not { } http)
            {
                continue;
            }

            var template = TemplateParser.Parse(Combine(prefix, http.Route).TrimStart('/'));

            // A route that is a single catch-all (the fallback function itself) matches everything: it says nothing about
            // which methods a path allows.
            if (template.Segments.Count - PrefixSegments(prefix) == 1 && template.Segments[^1].Parts is [{ IsCatchAll: true }])
            {
                continue;
            }

            routes.Add((new TemplateMatcher(template, new RouteValueDictionary()), http.Methods));
        }

        return new FunctionRouteTable(routes);
    }

    /// <summary>The methods some route allows on <paramref name="path"/> (upper case, sorted); empty when no route matches.</summary>
    public IReadOnlyList<string> AllowedMethods(PathString path)
    {
        var allowed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (matcher, methods) in _routes)
        {
            if (matcher.TryMatch(path, new RouteValueDictionary()))
            {
                allowed.UnionWith(methods);
            }
        }

        return [.. allowed];
    }

    /// <summary><c>/prefix/route</c>, as the hosts combine them.</summary>
    internal static string Combine(string prefix, string route) =>
        "/" + string.Join('/', new[] { prefix.Trim('/'), route.Trim('/') }.Where(s => s.Length > 0));

    private static int PrefixSegments(string prefix) => prefix.Split('/', StringSplitOptions.RemoveEmptyEntries).Length;
}
